"""The layout report of built pages: what does not fit, at 1280 and 390 px.

The measurement itself is scripts/page_layout.py (``bookscripts.page_layout``, shared with the PDF
printer and tests/test_page_fit.py); this script prints its report for built pages (``make book`` first)::

    .venv/bin/python tests/layout.py                    # every toc page, 1280 and 390 px
    .venv/bin/python tests/layout.py book/ch2_softmax_ce --width 1280
    .venv/bin/python tests/layout.py ch2_softmax_ce --site _build/_page/book-ch2_softmax_ce/html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bookscripts.page_layout import KINDS, describe, measure


def _main() -> None:
    # run as a script (python tests/layout.py), Python finds the tests' shared modules beside it
    from bookbuild import toc_files
    from helpers import open_page
    from playwright.sync_api import sync_playwright

    from bookscripts import browser

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", help="toc names such as book/ch1_conv_mse (default: all)")
    parser.add_argument("--width", type=int, action="append", help="viewport width (default: 1280 and 390)")
    parser.add_argument("--site", default="_build/html")
    args = parser.parse_args()
    pages = args.pages or toc_files()
    widths = args.width or [1280, 390]
    with browser.serve(Path(args.site)) as base, sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=browser.CHROMIUM, args=browser.ARGS)
        for width in widths:
            for name in pages:
                page = chromium.new_page(viewport={"width": width, "height": 900})
                open_page(page, f"{base}/{name}.html")
                result = measure(page)
                bad = {k: len(result[k]) for k in KINDS}
                print(f"{name} @ {width}px: " + ", ".join(f"{k} {v}" for k, v in bad.items())
                      + f"  (of {result['counts']['equations']} equations, {result['counts']['pre']} pre,"
                        f" {result['counts']['images']} images)")
                if any(bad.values()):
                    print(describe(result))
                page.close()
        chromium.close()


if __name__ == "__main__":
    _main()
