"""Shared test utilities: compare a derivative with both numerical routes; open a built page and run
an in-browser notebook in Chromium (the browser tests share these, never one another's modules)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import numpy as np

from backprop_lib.gradcheck import check_function
from bookscripts import lite_browser as lb


def assert_derivative(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic: np.ndarray, name: str = "x") -> None:
    """Assert ``analytic`` is the derivative of f at x by central differences and the complex step."""
    check_function(f, x, analytic, name).assert_ok()


def open_page(page, url: str) -> dict[str, list[str]]:  # noqa: ANN001
    """Load url with every request watched; return the problems seen while loading it."""
    problems: dict[str, list[str]] = {"console": [], "failed": [], "foreign": []}

    def route(r):  # noqa: ANN001, ANN202
        host = urlparse(r.request.url).hostname
        if r.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            r.continue_()
        else:
            problems["foreign"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems["console"].append(m.text))
    page.on("pageerror", lambda e: problems["console"].append(str(e)))
    page.on("requestfailed", lambda r: problems["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems["failed"].append(f"{r.url} ({r.status})"))
    page.goto(url, wait_until="load")
    if page.locator("script[src*='mathjax']").count():  # pages without math load no MathJax
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
    # every image decoded and every font loaded ("networkidle" can wait forever on a busy machine)
    page.wait_for_function("document.readyState === 'complete' && Array.from(document.images).every(i => i.complete)")
    page.evaluate("document.fonts.ready.then(() => true)")
    return problems


def run_to_the_end(page) -> list[dict]:  # noqa: ANN001
    """Run every cell of the open in-browser notebook; assert none raised and each ran; return the cells."""
    lb.run_all(page)
    cells = lb.cells(page)
    assert not lb.cell_errors(cells), "\n\n".join(lb.cell_errors(cells))
    assert all(c["execution_count"] for c in cells if c["cell_type"] == "code"), "a code cell did not run"
    return cells
