"""Benchmarks: what a reader, an author and CI wait for, each next to the floor it compares with.

Run with `make bench` (or `python bench/run.py [--repeats N] [--skip-book]`). Prints a table of
medians over N runs and writes it as JSON to _build/bench/results.json. Nothing here asserts a
time: speed is measured, not tested.

1. floor: start one Jupyter kernel and import numpy, matplotlib and backprop_lib, times the
   number of chapters;
2. nbval over every chapter, serial and with `-n 2 --dist loadscope`, as a ratio to the floor;
3. a clean book build (with execution), a rebuild with nothing changed, rebuilds after editing
   the prose of one chapter, the code of one chapter, and touching backprop_lib, as ratios to the
   clean build, with the number of notebooks each one executed; in a scratch copy of the repository;
4. each model at batch 4096: `grads` against `loss`, and the numerical gradient against `grads`;
5. backpropagation against central differences as the softmax network widens;
6. if torch is importable, `grads` against PyTorch's autograd (bench/torch_reference.py); torch is
   not one of the project's requirements, so otherwise the command to run it is printed;
7. the derivation checker (`backprop_lib.check.check_formula`) in CPython: the first verdict in a
   fresh process (it builds the LaTeX parser and the model's instances), after the import, and the
   median verdict once a model's instances are cached, over right and wrong formulas of every model;
8. the weight of the built site (`_build/html`, built first if a source changed): its bytes outside
   `lite/`, and what a first visit to chapter 1 on a phone loads (requests and bytes, Chromium at
   390 px, scripts/page_layout.py's first_view; the targets are 12 MB and 2.0 MB, tests/test_page_fit.py).

Models (4, 5) are timed on the CPU time of this process by default (`--clock wall` for elapsed
time; see backprop_lib/timing.py), in alternating samples; the builds (1-3) on elapsed time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "_build" / "bench"
BIN = Path(sys.executable).parent

from backprop_lib import models  # noqa: E402
from backprop_lib.gradcheck import numerical_gradient  # noqa: E402
from backprop_lib.timing import CLOCKS, alternating, median_time  # noqa: E402


def chapters() -> list[Path]:
    from bookext.notebooks import is_myst_notebook

    return sorted(p for p in (ROOT / "book").glob("*.md") if is_myst_notebook(p))


def kernel_floor(repeats: int) -> float:
    """Median time to start a kernel, import numpy, matplotlib and backprop_lib, and shut it down."""
    from jupyter_client.manager import start_new_kernel

    def once() -> None:
        km, kc = start_new_kernel(kernel_name="python3")
        try:
            kc.execute_interactive("import numpy, matplotlib.pyplot, backprop_lib", timeout=120)
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)

    return median_time(once, repeats, number=1)


def run(cmd: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def nbval_times(repeats: int) -> dict[str, float]:
    files = [str(p.relative_to(ROOT)) for p in chapters()]
    # as `make test` runs them: MPLBACKEND=Agg, figures are not rendered under nbval
    base = ["env", "MPLBACKEND=Agg", str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env"]
    return {
        "serial": median_time(lambda: run(base + files), repeats, number=1),
        "n2": median_time(lambda: run(base + ["-n", "2", "--dist", "loadscope"] + files), repeats, number=1),
    }


def executed(log: str) -> int:
    """Number of notebooks a build executed, from myst-nb's log lines."""
    return len(re.findall(r"Executed notebook in", log))


def book_times(repeats: int) -> dict[str, dict[str, float]]:
    """`make book`'s builds in a scratch copy of the repository, median of repeats.

    As `make book` runs them, through scripts/build_if_changed.py: the first (clean) build
    passes --all, a build with nothing changed runs nothing, the rebuilds after a successful
    build are incremental. Cases: clean, nothing changed, one chapter's prose edited, one
    chapter's code edited, backprop_lib touched; with the number of notebooks each one executed.
    """
    files = run(["git", "ls-files", "--cached", "--others", "--exclude-standard"]).stdout.split()
    cases = ["clean", "nothing changed", "prose edited", "code edited", "library touched"]
    results: dict[str, list[tuple[float, int]]] = {case: [] for case in cases}
    build = [str(BIN / "python"), "scripts/build_if_changed.py", "html"]
    chapter = chapters()[0].name
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-book-") as tmp:
            scratch = Path(tmp)
            for name in files:
                (scratch / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, scratch / name)
            page = scratch / "book" / chapter
            lib = scratch / "backprop_lib" / "__init__.py"

            def timed(label: str) -> None:
                start = time.perf_counter()
                done = run(build, cwd=scratch)
                results[label].append((time.perf_counter() - start, executed(done.stdout + done.stderr)))

            timed("clean")
            timed("nothing changed")
            page.write_text(page.read_text(encoding="utf-8").replace("\n## ", "\nAn added sentence of prose.\n\n## ", 1), encoding="utf-8")
            timed("prose edited")
            text = page.read_text(encoding="utf-8")
            cell = text.index("```{code-cell}")
            end = text.index("\n```", cell + 3)
            page.write_text(text[:end] + "\n# a comment added by the benchmark" + text[end:], encoding="utf-8")
            timed("code edited")
            lib.write_text(lib.read_text(encoding="utf-8") + "\n# touched by the benchmark\n", encoding="utf-8")
            timed("library touched")
    return {k: {"seconds": statistics.median(t for t, _ in v), "executed": max(n for _, n in v)} for k, v in results.items()}


def model_times(repeats: int, clock: Callable[[], float], batch: int = 4096) -> dict[str, dict[str, float]]:
    out = {}
    for name, model in models.ALL.items():
        params, data = model.example(np.random.default_rng(0), batch=batch)
        # loss and grads alternate, sample by sample, so that a slow spell of the machine hits both
        t_loss, t_grads = alternating([lambda: model.loss(params, data), lambda: model.grads(params, data)],
                                      samples=repeats * 5, number=20, clock=clock)

        def numeric() -> None:
            for key, value in params.items():
                numerical_gradient(lambda v, key=key: model.loss({**params, key: v}, data), value)

        (t_num,) = alternating([numeric], samples=repeats, number=1, clock=clock)
        n_params = sum(v.size for v in params.values())
        out[name] = {"loss": t_loss, "grads": t_grads, "numerical": t_num, "params": n_params}
    return out


def scaling(repeats: int, clock: Callable[[], float], widths: tuple[int, ...] = (4, 8, 16, 32, 64, 128, 256),
            batch: int = 64) -> list[dict[str, float]]:
    model = models.softmax_ce
    rows = []
    for w in widths:
        params, data = model.example(np.random.default_rng(1), batch=batch, sizes=(5, w, 3))
        t_loss, t_grads = alternating([lambda: model.loss(params, data), lambda: model.grads(params, data)],
                                      samples=repeats * 5, number=10, clock=clock)

        def numeric() -> None:
            for key, value in params.items():
                numerical_gradient(lambda v, key=key: model.loss({**params, key: v}, data), value)

        (t_num,) = alternating([numeric], samples=max(1, repeats // 3), number=1, clock=clock)
        rows.append({"width": w, "params": sum(v.size for v in params.values()), "loss": t_loss,
                     "grads": t_grads, "numerical": t_num})
    return rows


CHECKER_FORMULAS = [
    ("softmax_ce", "W2", r"\frac{1}{B}\bar z^T (s - t)"), ("softmax_ce", "b2", "(s - t) / B"),
    ("frobenius", "W1", r"2X^T(Y_{pred} - Y)W_2^T \odot \text{sigmoid}'(h)"),
    ("conv_mse", "w", r"\frac{2}{B}\sum_b (\hat y_b - y_b)\, a_b \star (v \odot o_b \odot (1 - o_b))"),
    ("three_layer", "W1", "x.T @ x"),
    ("jacobian_form", "b1", r"\sum_b 2(y_{pre,b} - y_b)(\operatorname{diag}(y_{pre,b}) - y_{pre,b}^T y_{pre,b})"),
]


def checker_times(repeats: int) -> dict[str, float]:
    """Elapsed seconds of backprop_lib.check: import, first verdict in a fresh process (cold), warm verdicts."""
    code = ("import time; t0 = time.perf_counter(); from backprop_lib.check import check_formula; "
            "t1 = time.perf_counter(); check_formula('softmax_ce', 'W2', r'\\frac{1}{B}\\bar z^T (s - t)'); "
            "print(t1 - t0, time.perf_counter() - t1)")
    cold = [tuple(map(float, run([sys.executable, "-c", code]).stdout.split())) for _ in range(repeats)]
    from backprop_lib.check import check_formula

    for m, p, f in CHECKER_FORMULAS:  # each model's instances and gradients, once
        check_formula(m, p, f)
    warm = []
    for _ in range(repeats):
        for m, p, f in CHECKER_FORMULAS:
            start = time.perf_counter()
            check_formula(m, p, f)
            warm.append(time.perf_counter() - start)
    return {"import": statistics.median(c[0] for c in cold), "cold": statistics.median(c[1] for c in cold),
            "warm": statistics.median(warm), "warm_max": max(warm), "formulas": len(CHECKER_FORMULAS)}


def site_weights() -> dict[str, int]:
    """The built site's bytes outside lite/ and chapter 1's first view at 390 px (requests, bytes)."""
    from playwright.sync_api import sync_playwright

    from bookscripts import browser
    from bookscripts.page_layout import first_view, site_weight

    run([str(BIN / "python"), "scripts/build_if_changed.py", "html"])
    site = ROOT / "_build" / "html"
    with browser.serve(site) as base, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.require_chromium(), args=browser.ARGS)
        try:
            view = first_view(chromium.new_context(viewport={"width": 390, "height": 844}), f"{base}/book/ch1_conv_mse.html")
        finally:
            chromium.close()
    return {"outside_lite_bytes": site_weight(site), "chapter1_first_view_bytes": view["bytes"],
            "chapter1_first_view_requests": view["requests"]}


TORCH_COMMAND = ("python3.11 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch==2.13.0 numpy==2.4.6 -e .\n"
                 "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /tmp/torchenv/bin/python bench/torch_reference.py")


def torch_comparison() -> str:
    """Run bench/torch_reference.py if this Python has torch, else say how to (torch is no requirement)."""
    from importlib.util import find_spec

    if find_spec("torch") is None:
        return ("grads against PyTorch's autograd: torch is not installed here (it is not one of the project's "
                "requirements); in a scratch environment:\n" + TORCH_COMMAND)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "torch_reference.py")], capture_output=True, text=True)
    return done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-book", action="store_true", help="skip the kernel, nbval and book-build measurements")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="process",
                        help="for the models: CPU time of this process (default) or elapsed (wall) time")
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    results: dict[str, object] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
        "repeats": args.repeats,
        "model_clock": args.clock,
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    }
    lines = []
    if not args.skip_book:
        n = len(chapters())
        floor = kernel_floor(args.repeats)
        nb = nbval_times(args.repeats)
        results["kernel_floor"] = {"one_kernel": floor, "chapters": n, "floor": floor * n}
        results["nbval"] = nb
        lines += [
            f"floor: 1 kernel + imports = {floor:.2f} s, x {n} notebooks = {floor * n:.2f} s",
            f"nbval serial            {nb['serial']:7.2f} s   {nb['serial'] / (floor * n):5.2f} x floor",
            f"nbval -n 2 loadscope    {nb['n2']:7.2f} s   {nb['n2'] / (floor * n):5.2f} x floor",
        ]
        books = book_times(args.repeats)
        results["book"] = books
        clean = books["clean"]["seconds"]
        for label, row in books.items():
            lines.append(f"book build, {label:<16} {row['seconds']:7.2f} s   {row['seconds'] / clean:6.1%} of clean   "
                         f"{row['executed']} notebook(s) executed")
        weight = site_weights()
        results["site_weight"] = weight
        lines.append(f"site outside lite/ {weight['outside_lite_bytes'] / 1e6:.1f} MB; chapter 1's first view at 390 px "
                     f"{weight['chapter1_first_view_requests']} requests, {weight['chapter1_first_view_bytes'] / 1e6:.2f} MB")
    mt = model_times(args.repeats, clock)
    results["models_batch_4096"] = mt
    lines.append(f"models: {args.clock} time; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    lines.append(f"{'model (batch 4096)':<16} {'params':>6} {'loss ms':>9} {'grads ms':>9} {'grads/loss':>10} {'numerical/grads':>15}")
    for name, row in mt.items():
        lines.append(f"{name:<16} {row['params']:>6} {row['loss'] * 1e3:9.3f} {row['grads'] * 1e3:9.3f} "
                     f"{row['grads'] / row['loss']:10.2f} {row['numerical'] / row['grads']:15.0f}")
    sc = scaling(args.repeats, clock)
    results["scaling_softmax_ce"] = sc
    lines.append(f"{'width':>5} {'params':>6} {'grads/loss':>10} {'numerical/loss':>14}")
    for row in sc:
        lines.append(f"{row['width']:>5} {row['params']:>6} {row['grads'] / row['loss']:10.2f} {row['numerical'] / row['loss']:14.0f}")
    ck = checker_times(args.repeats)
    results["checker"] = ck
    lines.append(f"checker (CPython, elapsed): import {ck['import'] * 1e3:.0f} ms, first verdict (cold) "
                 f"{ck['cold'] * 1e3:.0f} ms, verdict (warm, median of {ck['formulas']} formulas) "
                 f"{ck['warm'] * 1e3:.1f} ms, slowest {ck['warm_max'] * 1e3:.1f} ms")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    print("\n".join(lines))
    print("\n" + torch_comparison())
    print(f"\n(written to {OUT / 'results.json'})")


if __name__ == "__main__":
    main()
