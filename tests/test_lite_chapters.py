"""Every chapter that tests/test_lite.py does not open from its launcher (chapters 2 to 5 and the
appendix) runs to the end in the reader's browser: JupyterLite from the built site, Pyodide's
numpy 2.0.2 and matplotlib 3.8.4, headless Debian Chromium, every request to another host than
127.0.0.1 aborted and recorded. No cell is skipped: each code cell runs, none raises, a figure is
drawn, no request is blocked and the console has no error. Skipped, with the build's reason, when
the build left the in-browser site off (``lite_site``, tests/conftest.py; under CI: a failure).

Each chapter gets a fresh browser context (no cache, no stored notebook), as a first reader has.
"""

from __future__ import annotations

import pytest
from bookbuild import CHAPTERS
from helpers import run_to_the_end

from bookscripts import lite_browser as lb

OPENED_FROM_THE_LAUNCHER = ("book/ch1_conv_mse", "book/ch6_autodiff")  # tests/test_lite.py runs these
REMAINING = [name for name in CHAPTERS if name not in OPENED_FROM_THE_LAUNCHER]


def test_every_chapter_is_run_in_the_browser_by_one_test_or_the_other():
    assert set(OPENED_FROM_THE_LAUNCHER) <= set(CHAPTERS) and len(REMAINING) == len(CHAPTERS) - 2


@pytest.mark.parametrize("name", REMAINING)
def test_chapter_runs_to_the_end_in_the_browser(lite_site, page, context, book_server: str, name: str):  # noqa: ANN001
    blocked = lb.block_other_hosts(context)
    console = lb.record_console_errors(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    notebook = f"{name.split('/')[-1]}.ipynb"
    page.goto(f"{book_server}/lite/notebooks/index.html?path={notebook}", wait_until="load")
    lb.wait_kernel_idle(page)
    cells = run_to_the_end(page)
    assert lb.images(cells), f"{name}: no figure drawn"
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not console, f"console errors: {console}"
