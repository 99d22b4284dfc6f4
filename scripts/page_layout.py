"""What a reader's screen (or paper) shows of a page: the things that do not fit, measured in Chromium.

``measure(page)`` runs in an open Playwright page and returns the offenders, each named so an
author can find it in the source:

- ``equations``: display equations (``mjx-container[display="true"]``) wider than the box that
  shows them (or reaching past the column), named by their label and number, or their first
  characters of TeX; ``counts`` gives how many there are and how many ``fit``;
- ``numbers``: of those, the ones whose equation number sits level with the cut formula (it then
  looks finished: "so (5.2)"), not below it;
- ``inline``: inline formulas reaching past the box that clips them (or the window), with no way
  to scroll to the rest;
- ``code``: ``pre`` blocks (code cells, their outputs, quoted text) whose content is wider
  than the block (``scrollWidth > clientWidth``), named by their first line;
- ``outputs``: cell outputs (printed text, tables) with a box that scrolls sideways or reaches
  past the column: a check's verdict or its errors hidden;
- ``images``: content images shown at less than half their natural width (their text is then
  drawn at less than half its size), named by their alt text;
- ``figures``: content images shown so small that their smallest text is below
  ``MIN_SHOWN_PX`` CSS pixels (the figures' smallest text is ``MIN_TEXT_PT`` at natural size,
  backprop_lib/plotting.py) and that do not open full size on a tap (a link to the image);
- ``page``: the page itself scrolling sideways (the document is wider than the window);
- ``column``: the width of the text column in CSS pixels.

Also here, for the browser tests and ``make bench``: ``CLS_INIT_JS`` and ``layout_shift(page)``
(the page's cumulative layout shift, as Lighthouse and web-vitals count it), ``first_view(context,
url)`` (the bytes a first visit loads) and ``site_weight(site)`` (the bytes of the site outside
``lite/``).

Used by the browser tests (tests/test_page_fit.py, tests/layout.py) and by the PDF printer
(scripts/make_pdf.py), which refuses to print a page whose print layout cuts anything.
"""

from __future__ import annotations

import time
from pathlib import Path

try:
    from backprop_lib.plotting import MIN_TEXT_PT
except ImportError:  # the printer run outside the project's venv
    MIN_TEXT_PT = 8.0

# The smallest figure text a reader can read on a screen, in CSS pixels. Every figure's text is at
# least MIN_TEXT_PT (8 pt = 10.67 CSS px) as shown in the 860 px column, so at least that at its
# natural size (book/matplotlibrc's hook, backprop_lib/plotting.py): shown at READABLE_RATIO of its
# natural width or more, its smallest text stays at least MIN_SHOWN_PX.
MIN_SHOWN_PX = 7.0
READABLE_RATIO = MIN_SHOWN_PX / (MIN_TEXT_PT * 96 / 72)

MEASURE_JS = r"""() => {
  const article = document.querySelector('main article') || document.querySelector('main') || document.body;
  const room = article.getBoundingClientRect();
  const viewport = document.documentElement.clientWidth;
  const slack = 1;  // sub-pixel rounding
  // shown: not in a closed dropdown, nor in a box hidden but for screen readers (1 px, clipped)
  const tiny = (el) => el.getBoundingClientRect().width <= 1 && getComputedStyle(el).overflow !== 'visible';
  const shown = (el) => {
    if (el.getBoundingClientRect().width === 0) return false;
    for (let a = el; a && a !== article; a = a.parentElement) if (tiny(a)) return false;
    return true;
  };
  const text = (el, n) => ((el.innerText || el.textContent || '').split('\n').find(l => l.trim()) || '').trim().slice(0, n);
  const label = (el) => {
    const math = el.closest('div.math');
    if (math) {
      const no = math.querySelector('span.eqno');
      return (math.id || '(unlabelled)') + (no ? ' ' + no.innerText.trim() : '');
    }
    const tex = el.getAttribute('data-tex') || (el.querySelector('mjx-assistive-mml') || el).textContent;
    return 'inline-display: ' + tex.trim().slice(0, 60);
  };
  const tex = (el) => {
    const mml = el.querySelector('mjx-assistive-mml, math');
    return (el.getAttribute('aria-label') || (mml && mml.textContent) || el.textContent || '').trim().slice(0, 60);
  };
  const scrolls = (el) => el.scrollWidth > el.clientWidth + slack && ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);

  // display equations: cut when wider than their box or past the column's right edge
  const displays = Array.from(article.querySelectorAll('mjx-container[display="true"]')).filter(shown);
  const isCut = (c) => c.scrollWidth > c.clientWidth + slack || c.getBoundingClientRect().right > room.right + slack;
  const equations = [];
  const numbers = [];
  displays.forEach(c => {
    if (!isCut(c)) return;
    equations.push({name: label(c), content: c.scrollWidth, shown: c.clientWidth});
    const math = c.closest('div.math');
    const no = math && math.querySelector('span.eqno');
    // a number level with a cut formula makes it look finished ("so (5.2)"); below it, it does not
    if (no && shown(no) && no.getBoundingClientRect().top < c.getBoundingClientRect().bottom - slack) {
      numbers.push({name: label(c), content: c.scrollWidth, shown: c.clientWidth});
    }
  });

  // inline formulas: cut when a part lies past the first box that clips it (overflow other than
  // visible) and that box does not scroll, or past the window with no such box
  const inline = [];
  article.querySelectorAll('mjx-container:not([display="true"])').forEach(c => {
    if (!shown(c)) return;
    const right = Math.max(...Array.from(c.getClientRects()).map(r => r.right));
    let edge = viewport, reachable = false;
    for (let a = c.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      if (getComputedStyle(a).overflowX === 'visible') continue;
      const r = a.getBoundingClientRect().right;
      if (right > r + slack) { edge = r; reachable = scrolls(a); break; }
    }
    if (!reachable && right > edge + slack) {
      inline.push({name: 'inline: ' + tex(c), content: Math.round(right), shown: Math.round(edge)});
    }
  });

  // pre blocks that scroll (code cells may at 390 px; at 1280 px nothing does)
  const code = [];
  article.querySelectorAll('pre').forEach(p => {
    if (!shown(p)) return;
    if (p.scrollWidth > p.clientWidth + slack) {
      const where = p.closest('.cell_output, .output') ? 'output' : (p.closest('.cell_input') ? 'cell' : 'block');
      code.push({name: where + ': ' + text(p, 70), content: p.scrollWidth, shown: p.clientWidth});
    }
  });

  // cell outputs (printed text, tables) that scroll sideways or stick out of the column
  const outputs = [];
  article.querySelectorAll('div.cell_output').forEach(out => {
    if (!shown(out)) return;
    const boxes = [out, ...out.querySelectorAll('*')].filter(el => shown(el) && !el.closest('mjx-container'));
    const wide = boxes.find(el => el.scrollWidth > el.clientWidth + slack && getComputedStyle(el).overflowX !== 'visible')
      || boxes.find(el => el.getBoundingClientRect().right > room.right + slack);
    if (wide) outputs.push({name: 'output: ' + text(wide, 70), content: wide.scrollWidth, shown: wide.clientWidth});
  });

  // content images shown at less than half their natural width (the 1280 px rule)
  const images = [];
  // figures whose smallest text (READABLE_RATIO of natural size) falls below 7 CSS px as shown,
  // and that do not open full size on a tap (a link to the image, which book.js opens at natural size)
  const figures = [];
  const ratio = READABLE_RATIO;
  article.querySelectorAll('img').forEach(i => {
    if (!i.naturalWidth || !shown(i)) return;
    const name = (i.getAttribute('alt') || i.getAttribute('src')).slice(0, 70);
    if (i.clientWidth < i.naturalWidth / 2) images.push({name, content: i.naturalWidth, shown: i.clientWidth});
    const link = i.closest('a[href]');
    const opens = link && new URL(link.href, location.href).pathname === new URL(i.src, location.href).pathname;
    if (i.clientWidth < i.naturalWidth * ratio - slack && !opens) figures.push({name, content: i.naturalWidth, shown: i.clientWidth});
  });

  const doc = document.documentElement;
  const page = doc.scrollWidth > doc.clientWidth + slack
    ? [{name: 'the page scrolls sideways', content: doc.scrollWidth, shown: doc.clientWidth}] : [];
  const section = article.querySelector('section') || article;
  return {equations, numbers, inline, code, outputs, images, figures, page, column: section.clientWidth,
          counts: {equations: displays.length, fit: displays.length - equations.length,
                   pre: article.querySelectorAll('pre').length,
                   outputs: article.querySelectorAll('div.cell_output').length,
                   images: article.querySelectorAll('img').length}};
}"""

KINDS = ("equations", "code", "images", "page")
# what must be empty on a phone (390 px): code may scroll in its box there, equations are counted
PHONE_KINDS = ("numbers", "inline", "outputs", "figures", "page")


def measure(page) -> dict:  # noqa: ANN001 - a playwright Page
    """The offenders of the page as it is laid out now (see the module docstring)."""
    return page.evaluate(MEASURE_JS.replace("READABLE_RATIO", f"{READABLE_RATIO:.4f}"))


def describe(result: dict, kinds: tuple[str, ...] = KINDS) -> str:
    """One line per offender: kind, name, content width and shown width in CSS pixels."""
    lines = []
    for kind in kinds:
        for item in result[kind]:
            lines.append(f"  {kind}: {item['name']} ({item['content']} px in {item['shown']} px)")
    return "\n".join(lines)


# Layout shift: a PerformanceObserver from the page's first script on (add it with
# context.add_init_script or page.add_init_script before the page loads).
CLS_INIT_JS = """
window.__layoutShifts = [];
new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__layoutShifts.push({value: e.value, input: e.hadRecentInput, t: e.startTime});
}).observe({type: 'layout-shift', buffered: true});
"""


def layout_shift(page) -> float:  # noqa: ANN001 - a playwright Page
    """The page's CLS so far: the largest session window of layout shifts not caused by input (shifts
    less than 1 s apart, a window at most 5 s long), as Lighthouse and web-vitals count it."""
    shifts = page.evaluate("window.__layoutShifts || []")
    worst = current = 0.0
    first = last = None
    for s in sorted((s for s in shifts if not s["input"]), key=lambda s: s["t"]):
        if first is None or s["t"] - last >= 1000 or s["t"] - first >= 5000:
            first, current = s["t"], 0.0
        current += s["value"]
        last = s["t"]
        worst = max(worst, current)
    return worst


def first_view(context, url: str, settle_s: float = 1.5, timeout_s: float = 60) -> dict:  # noqa: ANN001
    """Open ``url`` in a fresh page of ``context`` (a context with an empty cache) and count what it loads
    until the network has been quiet for ``settle_s``: ``{"requests": n, "bytes": b, "files": {url: b}}``
    (bytes are the response bodies, as a server without compression sends them; the page's workers'
    requests included)."""
    files: dict[str, int] = {}
    last = [time.monotonic()]

    def done(request) -> None:  # noqa: ANN001
        try:
            size = request.sizes()["responseBodySize"]
        except Exception:  # noqa: BLE001 - a request the browser dropped
            size = 0
        files[request.url] = files.get(request.url, 0) + max(size, 0)
        last[0] = time.monotonic()

    context.on("requestfinished", done)
    page = context.new_page()
    try:
        page.goto(url, wait_until="load")
        end = time.monotonic() + timeout_s
        while time.monotonic() - last[0] < settle_s and time.monotonic() < end:
            page.wait_for_timeout(200)
    finally:
        page.close()
        context.remove_listener("requestfinished", done)
    return {"requests": len(files), "bytes": sum(files.values()), "files": files}


def site_weight(site: Path) -> int:
    """Bytes of every file of the built site outside ``lite/`` (the in-browser notebooks' own site)."""
    return sum(p.stat().st_size for p in Path(site).rglob("*")
               if p.is_file() and p.relative_to(site).parts[0] != "lite")
