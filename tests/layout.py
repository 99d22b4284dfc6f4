"""What a reader's screen shows of a page: the things that do not fit, measured in Chromium.

``measure(page)`` runs in an open Playwright page and returns the offenders, each named so an
author can find it in the source:

- ``equations``: display equations (``mjx-container[display="true"]``) wider than the box that
  shows them, named by their label and number, or their first characters of TeX;
- ``code``: ``pre`` blocks (code cells, their outputs, quoted text) whose content is wider
  than the block (``scrollWidth > clientWidth``), named by their first line;
- ``images``: content images shown at less than half their natural width (their text is then
  drawn at less than half its size), named by their alt text;
- ``page``: the page itself scrolling sideways (the document is wider than the window).

Run as a script to print the report for built pages (``make book`` first)::

    .venv/bin/python tests/layout.py                    # every toc page, 1280 and 390 px
    .venv/bin/python tests/layout.py book/ch2_softmax_ce --width 1280
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

MEASURE_JS = r"""() => {
  const article = document.querySelector('main article') || document.querySelector('main') || document.body;
  const label = (el) => {
    const math = el.closest('div.math');
    if (math) {
      const no = math.querySelector('span.eqno');
      return (math.id || '(unlabelled)') + (no ? ' ' + no.innerText.trim() : '');
    }
    const tex = el.getAttribute('data-tex') || (el.querySelector('mjx-assistive-mml') || el).textContent;
    return 'inline-display: ' + tex.trim().slice(0, 60);
  };
  const slack = 1;  // sub-pixel rounding
  const equations = [];
  article.querySelectorAll('mjx-container[display="true"]').forEach(c => {
    const box = c.getBoundingClientRect();
    const room = article.getBoundingClientRect();
    if (box.width === 0) return;  // hidden (a closed dropdown)
    if (c.scrollWidth > c.clientWidth + slack || box.right > room.right + slack) {
      equations.push({name: label(c), content: c.scrollWidth, shown: c.clientWidth});
    }
  });
  const code = [];
  article.querySelectorAll('pre').forEach(p => {
    if (p.getBoundingClientRect().width === 0) return;
    if (p.scrollWidth > p.clientWidth + slack) {
      const where = p.closest('.cell_output, .output') ? 'output' : (p.closest('.cell_input') ? 'cell' : 'block');
      const first = (p.innerText.split('\n').find(l => l.trim()) || '').trim().slice(0, 70);
      code.push({name: where + ': ' + first, content: p.scrollWidth, shown: p.clientWidth});
    }
  });
  const images = [];
  article.querySelectorAll('img').forEach(i => {
    if (!i.naturalWidth || i.getBoundingClientRect().width === 0) return;
    if (i.clientWidth < i.naturalWidth / 2) {
      images.push({name: (i.getAttribute('alt') || i.getAttribute('src')).slice(0, 70),
                   content: i.naturalWidth, shown: i.clientWidth});
    }
  });
  const doc = document.documentElement;
  const page = doc.scrollWidth > doc.clientWidth + slack
    ? [{name: 'the page scrolls sideways', content: doc.scrollWidth, shown: doc.clientWidth}] : [];
  const section = article.querySelector('section') || article;
  return {equations, code, images, page, column: section.clientWidth,
          counts: {equations: article.querySelectorAll('mjx-container[display="true"]').length,
                   pre: article.querySelectorAll('pre').length,
                   images: article.querySelectorAll('img').length}};
}"""

KINDS = ("equations", "code", "images", "page")


def measure(page) -> dict:  # noqa: ANN001 - a playwright Page
    """The offenders of the page as it is laid out now (see the module docstring)."""
    return page.evaluate(MEASURE_JS)


def describe(result: dict, kinds: tuple[str, ...] = KINDS) -> str:
    """One line per offender: kind, name, content width and shown width in CSS pixels."""
    lines = []
    for kind in kinds:
        for item in result[kind]:
            lines.append(f"  {kind}: {item['name']} ({item['content']} px in {item['shown']} px)")
    return "\n".join(lines)


def _main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import make_pdf
    from playwright.sync_api import sync_playwright
    from test_book import toc_files
    from test_browser import open_page

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", help="toc names such as book/ch1_conv_mse (default: all)")
    parser.add_argument("--width", type=int, action="append", help="viewport width (default: 1280 and 390)")
    parser.add_argument("--site", default="_build/html")
    args = parser.parse_args()
    pages = args.pages or toc_files()
    widths = args.width or [1280, 390]
    with make_pdf.serve(Path(args.site)) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=make_pdf.CHROMIUM, args=make_pdf.ARGS)
        for width in widths:
            for name in pages:
                page = browser.new_page(viewport={"width": width, "height": 900})
                open_page(page, f"{base}/{name}.html")
                result = measure(page)
                bad = {k: len(result[k]) for k in KINDS}
                print(f"{name} @ {width}px: " + ", ".join(f"{k} {v}" for k, v in bad.items())
                      + f"  (of {result['counts']['equations']} equations, {result['counts']['pre']} pre,"
                        f" {result['counts']['images']} images)")
                if any(bad.values()):
                    print(describe(result))
                page.close()
        browser.close()


if __name__ == "__main__":
    _main()
