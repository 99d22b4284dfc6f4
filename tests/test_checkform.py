"""The "Check your derivation" form (book/_ext/checkform.py) on the chapters' pages, in Chromium.

On chapter 2's and chapter 4's pages: the form has a select labelled "parameter" with the model's
parameters, a textbox labelled "formula", a "Check" button and a status element; without
JavaScript it says what it will do. A right LaTeX formula gets data-verdict="ok", chapter 2's
gradient without the mean's 1/B gets "factor" and a message that names the 1/B, in Python that
runs in the page's Web Worker from the site's own Pyodide and wheels: every request of the page
and of its worker goes to the site's host (anything else is aborted, and none is). At 390 px the
form is no wider than the window; axe finds no serious or critical violation in it. Screenshots
of the form at 1280 and 390 px go to _build/screenshots/. The times from click to verdict
(first, then warm) are recorded as test properties and printed (bench/checker_browser.py
measures them over fresh browsers).

The browser tests need the in-browser runtime (``lite_site``: skipped when the build left it off,
failed under CI). Without it (a build with the in-browser site off) the form says so and gives the
notebook call: tested on the built page and on the form as the extension writes it for such a build.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from bookbench import checker_browser as cb
from bookbuild import BUILD, ROOT, build_if_changed
from bookext import checkform, lite_assets
from bookext import jupyter_markdown as jm
from bookscripts.browser import serve
from bs4 import BeautifulSoup
from sphinx.errors import ExtensionError

SCREENSHOTS = BUILD / "screenshots"
# chapter -> model, the parameter checked, a right LaTeX formula for it
CHAPTERS = {
    "book/ch2_softmax_ce": ("softmax_ce", "W2", r"\frac{1}{B} \bar z^T (s - t)"),
    "book/ch4_frobenius": ("frobenius", "W2", r"2 h_{sigmoid}^T (Y_{pred} - Y)"),
}
MISSING_MEAN = r"\bar z^T (s - t)"  # chapter 2's loss is a mean over the batch: this is B times the gradient


class Watch:
    """Every request of a page and of its workers: only the site's host is let through."""

    def __init__(self, page, base: str):
        self.refused = cb.own_host_only(page.context, base)
        self.errors: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} ({r.status})"))

    def assert_clean(self) -> None:
        assert not self.refused, f"requests to other hosts: {self.refused}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


def open_chapter(page, base: str, chapter: str) -> Watch:
    watch = Watch(page, base)
    page.goto(f"{base}/{chapter}.html", wait_until="load")
    page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("MathJax.startup.promise")
    return watch


def fits(page) -> list[str]:
    """Elements of the form wider than the window or reaching past its right edge (none at 390 px),
    and the page's own sideways scroll; a typeset preview scrolls inside its own box."""
    return page.evaluate("""() => {
      const out = [], w = document.documentElement.clientWidth;
      const form = document.querySelector('.derivation-check');
      for (const el of [form, ...form.querySelectorAll('*')]) {
        if (el.closest('.dc-preview') && el !== form.querySelector('.dc-preview')) continue;
        const r = el.getBoundingClientRect();
        if (r.width > 0 && (r.left < -0.5 || r.right > w + 0.5))
          out.push(`${el.tagName}.${el.className}: ${Math.round(r.left)}..${Math.round(r.right)} of ${w}`);
      }
      const page = document.scrollingElement;
      if (page.scrollWidth > page.clientWidth) out.push(`the page scrolls sideways: ${page.scrollWidth} px`);
      return out;
    }""")


def axe_serious(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    violations = Axe().run(page, context=".derivation-check").response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:160]}" for v in violations
            if v["impact"] in ("serious", "critical")]


def shoot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"checkform_{name}.png"
    page.locator(".derivation-check").first.screenshot(path=str(shot))
    assert shot.stat().st_size > 5_000
    return shot


# -- the page as built --------------------------------------------------------------------------------


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_built_page_says_what_the_form_will_do(built_book: Path, chapter: str):
    """Before its script runs (or without JavaScript) the form says what it will do and gives the
    notebook call; in a build without the Pyodide runtime, that the in-browser check is not part of it."""
    model, _, _ = CHAPTERS[chapter]
    soup = BeautifulSoup((built_book / f"{chapter}.html").read_text(encoding="utf-8"), "html.parser")
    box = soup.select_one("div.derivation-check")
    on = build_if_changed.lite_off() is None
    assert box is not None and box["data-model"] == model and box["data-runtime"] == ("on" if on else "off")
    status = box.select_one('[role="status"]')
    assert status["data-verdict"] == "idle"
    assert box.select_one("button").has_attr("disabled")  # until the script runs
    text = status.get_text(" ", strip=True)  # what a reader without JavaScript reads
    assert ("needs JavaScript" if on else "not part of this build") in text and f'check_formula("{model}"' in text
    params = [o["value"] for o in box.select("select option")]
    assert params == list(checkform.registry()[model].params)
    assert soup.find("script", src=lambda s: s and "checkform.js" in s)
    assert soup.find("link", href=lambda s: s and "checkform.css" in s)
    # the page the form is not on loads neither
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf-8")
    assert "checkform" not in intro


def test_the_wheels_served_are_the_built_ones_and_pinned(built_book: Path, lite_site: Path):
    """The worker's wheels: the book's, byte for byte the one the build made, and lark, the PyPI file
    with the pinned sha256; each page gives their sha256 as the integrity the browser checks."""
    served = {p.name: p for p in (built_book / checkform.CHECKER_DIR).iterdir()}
    lark = served.pop(f"lark-{checkform.LARK[1]}-py3-none-any.whl")
    assert lite_assets.sha256(lark) == checkform.LARK[2]
    (wheel,) = served.values()
    assert wheel.name.startswith("backprop_lib-")
    assert wheel.read_bytes() == next((built_book / "_sources" / "book").glob("backprop_lib-*.whl")).read_bytes()
    html = (built_book / "book" / "ch2_softmax_ce.html").read_text(encoding="utf-8")
    for path in (wheel, lark):
        sri = "sha256-" + base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
        assert f"{path.name}#{sri}" in html


# -- in the browser -------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_form_labels_roles_and_fit(browser, book_server: str, lite_site: Path, chapter: str, width: int):
    model, _, right = CHAPTERS[chapter]
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        watch = open_chapter(page, book_server, chapter)
        form = page.locator(".derivation-check")
        assert form.count() == 1
        select = form.get_by_label("parameter")
        assert select.evaluate("el => el.tagName") == "SELECT"
        assert select.locator("option").evaluate_all("os => os.map(o => o.value)") == list(
            checkform.registry()[model].params)
        formula = form.get_by_role("textbox", name="formula")
        assert formula.count() == 1
        assert form.get_by_role("button", name="Check").count() == 1
        status = form.get_by_role("status")
        assert status.get_attribute("data-verdict") == "idle"
        assert "when you first type" in status.inner_text()  # the script replaced the no-script text
        # keyboard: from the select, Tab reaches the formula
        select.focus()
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "formula"
        page.keyboard.type(right)
        form.locator(".dc-preview mjx-container").wait_for()  # typed LaTeX is typeset
        form.locator("summary").click()  # the list of names, open
        assert form.locator(".dc-names li").count() >= len(checkform.registry()[model].symbols)
        assert not fits(page), "\n".join(fits(page))
        watch.assert_clean()  # before axe, whose re-fetch of the theme's stylesheets asks for /basic.css
        assert not axe_serious(page), axe_serious(page)
    finally:
        page.close()




def test_chapter_2_names_the_missing_1_over_B(browser, book_server: str, lite_site: Path, record_property):
    _, param, right = CHAPTERS["book/ch2_softmax_ce"]
    page = browser.new_page(viewport={"width": 390, "height": 900})
    try:
        watch = open_chapter(page, book_server, "book/ch2_softmax_ce")
        first = cb.check(page, param, right)
        assert first["verdict"] == "ok", first["text"]
        wrong = cb.check(page, param, MISSING_MEAN)
        assert wrong["verdict"] == "factor", wrong["text"]
        assert "1/B" in wrong["text"], wrong["text"]
        assert "largest relative error" in wrong["text"]
        assert not fits(page), "\n".join(fits(page))
        shoot(page, "ch2_390")  # the slip as a phone shows it
        again = cb.check(page, param, right)
        assert again["verdict"] == "ok", again["text"]
        watch.assert_clean()
        assert not axe_serious(page), axe_serious(page)
        times = {"first_ms": first["elapsed_ms"], "later_ms": [wrong["elapsed_ms"], again["elapsed_ms"]],
                 "phases": cb.phases(page)}
        record_property("verdict_times", json.dumps(times))
        print(f"\nchapter 2 at 390 px: first verdict {times['first_ms']} ms, later {times['later_ms']} ms, "
              f"start-up {times['phases']}")
    finally:
        page.close()


def test_chapter_4_right_latex_is_ok(browser, book_server: str, lite_site: Path, record_property):
    _, param, right = CHAPTERS["book/ch4_frobenius"]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        watch = open_chapter(page, book_server, "book/ch4_frobenius")
        latex = cb.check(page, param, right)
        assert latex["verdict"] == "ok", latex["text"]
        numpy = cb.check(page, param, "2 * h_sigmoid.T @ (Y_pred - Y)", enter=True)  # the keyboard's way
        assert numpy["verdict"] == "ok", numpy["text"]
        watch.assert_clean()
        assert not axe_serious(page), axe_serious(page)
        shoot(page, "ch4_1280")
        page.set_viewport_size({"width": 390, "height": 900})
        assert not fits(page), "\n".join(fits(page))
        times = {"first_ms": latex["elapsed_ms"], "later_ms": [numpy["elapsed_ms"]]}
        record_property("verdict_times", json.dumps(times))
        print(f"\nchapter 4 at 1280 px: first verdict {latex['elapsed_ms']} ms, later {numpy['elapsed_ms']} ms")
    finally:
        page.close()


# -- a build without the in-browser runtime ------------------------------------------------------------


def test_without_the_runtime_the_form_says_so_and_gives_the_notebook_call(browser, tmp_path: Path):
    """The form as checkform.py writes it when the build has no Pyodide runtime: shown, with a line
    saying the in-browser checker is not part of this build and the notebook call, and no worker."""
    app = SimpleNamespace(builder=SimpleNamespace(get_target_uri=lambda d: f"{d}.html"), extensions={},
                          checkform_wheels=[])
    html = checkform.form_html(app, "book/ch2_softmax_ce", "softmax_ce", "W2", 0)
    assert 'data-runtime="off"' in html and "data-worker" not in html and "not part of this build" in html
    (tmp_path / "book").mkdir()
    (tmp_path / "_static").mkdir()
    for name in ("checkform.js", "checkform.css"):
        (tmp_path / "_static" / name).write_bytes((ROOT / "book" / "_static" / name).read_bytes())
    (tmp_path / "book" / "page.html").write_text(
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title>'
        '<link rel="stylesheet" href="../_static/checkform.css"><script defer src="../_static/checkform.js"></script>'
        f"</head><body><main>{html}</main></body></html>", encoding="utf-8")
    with serve(tmp_path) as base:
        page = browser.new_page(viewport={"width": 390, "height": 900})
        try:
            watch = Watch(page, base)
            workers = []
            page.on("worker", lambda w: workers.append(w.url))
            page.goto(f"{base}/book/page.html", wait_until="load")
            status = page.get_by_role("status")
            assert "not part of this build" in status.inner_text()
            page.get_by_label("formula").fill(MISSING_MEAN)
            page.get_by_role("button", name="Check").click()
            assert status.get_attribute("data-verdict") == "unavailable"
            assert f'check_formula("softmax_ce", "W2", r"{MISSING_MEAN}")' in status.inner_text()
            assert not workers
            assert not fits(page), "\n".join(fits(page))
            watch.assert_clean()
        finally:
            page.close()


def test_other_outputs_get_the_notebook_paragraph():
    """Every output but the HTML page (the PDF's single page, LaTeX, text) shows how to run the check
    in a notebook: the node's children, which the HTML page replaces by the form."""
    node = checkform._make_node("softmax_ce", "b2", "test")
    text = node.astext()
    assert checkform.NOTEBOOK_IMPORT in text and 'check_formula("softmax_ce", "b2", r"…")' in text
    body: list[str] = []
    translator = SimpleNamespace(builder=SimpleNamespace(name="singlehtml"), body=body)
    checkform.visit_html(translator, node)  # not skipped: the children are written
    assert body == []
    with pytest.raises(ExtensionError, match="no parameter"):
        checkform._make_node("softmax_ce", "W3", "test")


def test_the_notebooks_get_the_call():
    """A {derivation-check} in a chapter becomes, in its notebooks, the call that runs the check there."""
    ctx = jm.Context(page=jm.PageRefs(docname="book/ch2_softmax_ce", html="book/ch2_softmax_ce.html"),
                     href=lambda path: path, extensions=())
    out = jm.convert_markdown(ctx, "Text.\n\n```{derivation-check} b2\n```\n")
    assert out.startswith("Text.\n\n") and checkform.NOTEBOOK_IMPORT in out
    assert 'check_formula("softmax_ce", "b2", r"…")' in out
    with pytest.raises(ExtensionError, match="no parameter"):
        jm.convert_markdown(ctx, "```{derivation-check} W3\n```\n")
