"""Print the single-page HTML build of the book to a PDF with Debian's Chromium (Playwright).

Usage: python scripts/make_pdf.py [_build/singlehtml] [_build/pdf/book.pdf]

No LaTeX is needed: the page is served on 127.0.0.1, MathJax typesets it (from the build's own
_static folder; any request to another host is refused), and Chromium prints it with the book's
table of contents (the single page starts with it) and a PDF outline (bookmarks).

The paper holds what the screen holds: A4 less the margins is 186 mm, 703 CSS px, and the page
is printed at SCALE = 0.8, so the print layout is 879 px wide, more than the 860 px text column
that every equation and code line is made to fit on screen. Before printing, the print layout
is measured (scripts/page_layout.py, the same measurement as the browser tests): a display
equation or a code line that would be cut stops the printer with their names.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

from playwright.sync_api import sync_playwright

from bookscripts.browser import ARGS, CHROMIUM, serve
from bookscripts.page_layout import describe, measure


PAPER = "A4"
MARGIN_MM = {"top": 15, "bottom": 15, "left": 12, "right": 12}
SCALE = 0.8
# the width the print layout is computed at, in CSS px (96 px an inch)
PRINT_WIDTH_PX = round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96 / SCALE)


def print_pdf(site: Path, out: Path) -> int:
    """Print the single page of ``site`` to ``out``; return the number of formulas MathJax typeset."""
    # Jupyter Book writes the single page under the root document's name (book/intro.html), with
    # asset paths relative to the site's root; index.html only redirects to it. Serve it from the root.
    single = site / "book" / "intro.html"
    if not single.exists():
        raise SystemExit(f"{single} not found: build the single-page HTML first (make pdf does)")
    (site / "book.html").write_text(single.read_text(encoding="utf-8"), encoding="utf-8")

    with serve(site) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": PRINT_WIDTH_PX, "height": 1200})
        page.set_default_timeout(300_000)  # the whole book on one page: minutes on a busy machine
        page.route("**/*", lambda r: r.continue_() if urlparse(r.request.url).hostname in (None, "127.0.0.1") else r.abort())
        page.goto(f"{base}/book.html", wait_until="load")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        page.wait_for_function("Array.from(document.images).every(i => i.complete)")
        page.evaluate("document.fonts.ready.then(() => true)")
        formulas = page.locator("mjx-container").count()
        if formulas == 0:
            raise SystemExit("MathJax typeset no formula: the PDF would show raw TeX")
        page.evaluate("document.querySelectorAll('details').forEach(d => d.removeAttribute('open'))")
        page.emulate_media(media="print")
        cut = measure(page)
        if cut["equations"] or cut["code"]:
            raise SystemExit("the print layout would cut these (make them fit the 860 px column):\n"
                             + describe(cut, ("equations", "code")))
        out.parent.mkdir(parents=True, exist_ok=True)
        page.pdf(path=str(out), format=PAPER, print_background=True, outline=True, tagged=True, scale=SCALE,
                 margin={k: f"{v}mm" for k, v in MARGIN_MM.items()})
        browser.close()
    return formulas


if __name__ == "__main__":
    site = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("_build/singlehtml")
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("_build/pdf/book.pdf")
    formulas = print_pdf(site, out)
    print(f"{out} ({out.stat().st_size // 1024} KiB, {formulas} typeset formulas)")
