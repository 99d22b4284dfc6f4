"""What a reader's screen (or paper) shows of a page: the things that do not fit, measured in Chromium.

``measure(page)`` runs in an open Playwright page and returns the offenders, each named so an
author can find it in the source:

- ``equations``: display equations (``mjx-container[display="true"]``) wider than the box that
  shows them, named by their label and number, or their first characters of TeX;
- ``code``: ``pre`` blocks (code cells, their outputs, quoted text) whose content is wider
  than the block (``scrollWidth > clientWidth``), named by their first line;
- ``images``: content images shown at less than half their natural width (their text is then
  drawn at less than half its size), named by their alt text;
- ``page``: the page itself scrolling sideways (the document is wider than the window);
- ``column``: the width of the text column in CSS pixels.

Used by the browser tests (tests/test_page_fit.py, tests/layout.py) and by the PDF printer
(scripts/make_pdf.py), which refuses to print a page whose print layout cuts anything.
"""

from __future__ import annotations

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
