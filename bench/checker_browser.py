"""Time the "Check your derivation" form (book/_ext/checkform.py) in Chromium, as a reader meets it.

Run with `python bench/checker_browser.py [--repeats 3]` after `make book`. Prints a table and
writes _build/bench/checker_browser.json. Nothing here asserts a time: speed is measured, not
tested (tests/test_checkform.py records the same two times from its own runs).

Each run starts headless Debian Chromium with a new, empty profile (a first visit: no HTTP
cache, no compiled WebAssembly), serves the built site on 127.0.0.1 (Python's http.server, as
`python -m http.server` does) and refuses every request to another host (none is expected).
It opens chapter 2's page and checks a right LaTeX formula, then a wrong one (the mean's 1/B
left out), then the right one again:

- **first verdict**: from the first click on Check until the verdict shows (the formula is filled
  in at once, so the worker, which starts when the box takes focus, gets no head start), which includes
  starting the worker, Pyodide, NumPy, unpacking the two wheels and importing the checker
  (``phases``: when, after the worker's start, each of those was done);
- **later verdicts**: the same for the second and third clicks (the worker is warm).

The times are the page's own (``data-elapsed-ms``: ``performance.now()`` from the submit to the
verdict on the page); the table gives the medians over the repeats, with the machine's load
average, which moves these times more than anything in the site.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path
from urllib.parse import urlparse

from bookscripts.browser import ARGS, require_chromium, serve

ROOT = Path(__file__).resolve().parents[1]

SITE = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "bench" / "checker_browser.json"
CHAPTER = "book/ch2_softmax_ce"
# (parameter, formula, the verdict expected): right, a missing 1/B, right again
CHECKS = (
    ("W2", r"\frac{1}{B} \bar z^T (s - t)", "ok"),
    ("W2", r"\bar z^T (s - t)", "factor"),
    ("W2", r"\frac{1}{B} \bar z^T (s - t)", "ok"),
)


def own_host_only(context, base: str) -> list[str]:
    """Route every request of the context (the page's and its worker's): requests to another host
    than ``base``'s are aborted and listed in the returned list."""
    host = urlparse(base).netloc
    refused: list[str] = []

    def route(r):  # noqa: ANN001
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).netloc == host:
            r.continue_()
        else:
            refused.append(url)
            r.abort()

    context.route("**/*", route)
    return refused


def check(page, param: str, formula: str, timeout_ms: float = 120_000, enter: bool = False) -> dict:
    """Select ``param``, type ``formula``, press Check (or Enter in the formula's box) and wait for the
    verdict; returns the verdict (``data-verdict``), the status's text, the page's time from click to
    verdict (``elapsed_ms``) and check_formula's own share (``check_ms``)."""
    form = page.locator(".derivation-check").first
    form.get_by_label("parameter").select_option(param)
    box = form.get_by_label("formula")
    box.fill(formula)
    if enter:
        box.press("Enter")
    else:
        form.get_by_role("button", name="Check").click()
    status = form.get_by_role("status")
    page.wait_for_function("el => el.dataset.verdict !== 'pending' && el.dataset.elapsedMs !== undefined",
                           arg=status.element_handle(), timeout=timeout_ms)
    return {
        "verdict": status.get_attribute("data-verdict"),
        "text": status.inner_text(),
        "elapsed_ms": int(status.get_attribute("data-elapsed-ms")),
        "check_ms": int(status.get_attribute("data-check-ms") or -1),
    }


def phases(page) -> dict:
    """The worker's start-up: ms after its init message at which Pyodide, NumPy, the wheels and the
    checker's import were ready (from the first verdict)."""
    raw = page.locator(".derivation-check").first.get_attribute("data-startup-ms")
    return json.loads(raw) if raw else {}


def one_run(playwright, base: str) -> dict:
    """A fresh browser (empty profile) on chapter 2's page: the CHECKS in order."""
    browser = playwright.chromium.launch(executable_path=require_chromium(), headless=True, args=ARGS)
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        refused = own_host_only(context, base)
        page = context.new_page()
        page.goto(f"{base}/{CHAPTER}.html", wait_until="load")
        results = [check(page, param, formula) for param, formula, _ in CHECKS]
        wrong = [(r["verdict"], want) for r, (_, _, want) in zip(results, CHECKS) if r["verdict"] != want]
        if wrong or refused:
            raise RuntimeError(f"unexpected verdicts {wrong} or requests to other hosts {refused}")
        return {"first_ms": results[0]["elapsed_ms"], "later_ms": [r["elapsed_ms"] for r in results[1:]],
                "check_ms": [r["check_ms"] for r in results], "phases": phases(page)}
    finally:
        browser.close()


def measure(site: Path = SITE, repeats: int = 3) -> dict:
    """Medians over ``repeats`` fresh browsers: first verdict and later verdicts (ms), with every run."""
    from playwright.sync_api import sync_playwright

    if not (site / f"{CHAPTER}.html").is_file():
        raise SystemExit(f"{site / CHAPTER}.html not found: build the book first (make book)")
    with serve(site) as base, sync_playwright() as p:
        runs = [one_run(p, base) for _ in range(repeats)]
    return {
        "first_verdict_ms": statistics.median(r["first_ms"] for r in runs),
        "later_verdict_ms": statistics.median(ms for r in runs for ms in r["later_ms"]),
        "runs": runs,
        "load_average": os.getloadavg(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = measure(SITE, args.repeats)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    load = ", ".join(f"{x:.2f}" for x in result["load_average"])
    print(f"Check your derivation, chapter 2, in Chromium ({args.repeats} fresh browsers; load average {load})")
    print(f"  first verdict (from the first click)  {result['first_verdict_ms'] / 1000:6.2f} s   target 5 s")
    print(f"  later verdicts                        {result['later_verdict_ms'] / 1000:6.2f} s   target 1 s")
    for i, run in enumerate(result["runs"], 1):
        steps = ", ".join(f"{k} {v / 1000:.2f} s" for k, v in run["phases"].items())
        print(f"  run {i}: first {run['first_ms'] / 1000:.2f} s ({steps}); later "
              + ", ".join(f"{ms / 1000:.2f} s" for ms in run["later_ms"]))
    print(f"written to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
