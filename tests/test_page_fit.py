"""The page fits the reader: no cut equation, no code off the edge, no shrunken figure, no page
that scrolls sideways, numbers printed with a precision that means something, and a page that
does not move under the reader or weigh more than it needs.

- In Chromium at 1280 px (a desktop) every toc page has zero display equations wider than
  their box, zero ``pre`` blocks that scroll, zero content images shown at less than half
  their natural width, and no sideways scroll of the page. At 1280 px no bar sits above the
  article's header (the theme's top bar, a second search field only). See tests/layout.py.
- At 390 x 844 px (a phone) every toc page has no equation number level with a cut formula, no
  inline formula cut, no cell output that scrolls sideways (a check's verdict and errors in
  view), no figure whose smallest text is shown below 7 CSS px unless it opens full size on a
  tap, and no sideways scroll of the page; code cells may scroll in their box (book.css draws a
  shadow at the edge that hides more). At least 90 % of the book's display equations fit their
  column (MathJax 4 breaks them into lines, book/_ext/mathjax4.py); the others scroll in a
  focusable, named box. A tap on a figure opens it at its natural size, and so do Enter on its
  link; Escape closes it. Each page's screenshot at 390 px is in _build/screenshots/390/.
- The cumulative layout shift of chapters 1 and 4 (PerformanceObserver 'layout-shift', counted as
  Lighthouse does) is at most 0.1 at both widths.
- The site outside ``lite/`` is at most 12 MB, with no source map, no MathJax file a page does
  not load and no fontawesome.js; chapter 1's first view loads at most 2.0 MB; book.js is
  deferred.
- The text column at 1280 px is at least as wide as the width figures are drawn for
  (backprop_lib.plotting.COLUMN_PX), and no page shows an error or a warning in a cell's
  output (a figure whose text would be too small raises one: book/matplotlibrc).
- Every code cell of every chapter (read through jupytext) and every printed output of the
  build (the text of the executed cells' outputs in the HTML) has lines of at most 80
  characters, and no printed number carries more than 6 significant digits.
- Every ``check_step`` shows on its chapter's page as its one-row table (stacked into a card on a
  phone, the verdict and errors in view), never as its text line.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from backprop_lib.plotting import COLUMN_PX
from bookbuild import BUILD, ROOT, toc_files
from bs4 import BeautifulSoup
from helpers import open_page

from bookscripts.page_layout import (CLS_INIT_JS, KINDS, PHONE_KINDS, READABLE_RATIO, describe, first_view,
                                     layout_shift, measure, site_weight)

PAGES = toc_files()
CHAPTERS = [name for name in PAGES if (ROOT / f"{name}.md").read_text(encoding="utf-8").startswith("---")]
MAX_LINE = 80
MAX_DIGITS = 6
# a decimal number as Python or NumPy prints it: 0.05088064806092798, -1.5e-08, 480.329
NUMBER = re.compile(r"(?<![\w.])-?(\d+)\.(\d+)(?:e[+-]?\d+)?(?![\w.])")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
MIN_FIT = 0.9  # of the book's display equations, at 390 px
MAX_CLS = 0.1
MAX_SITE_BYTES = 12_000_000  # outside lite/
MAX_FIRST_VIEW_BYTES = 2_000_000  # chapter 1
PHONE_SCREENSHOTS = BUILD / "screenshots" / "390"  # every page as a phone shows it, to look at


def significant_digits(match: re.Match) -> int:
    """Significant digits of a printed decimal number (leading zeros do not count)."""
    return len((match.group(1) + match.group(2)).lstrip("0")) or 1


def measured(browser, url: str, viewport: dict, screenshot: Path | None = None) -> tuple[dict, float]:  # noqa: ANN001
    """The page's measurement (scripts/page_layout.py) and the top of its article header; a full-page
    screenshot to ``screenshot`` if given."""
    page = browser.new_page(viewport=viewport)
    try:
        open_page(page, url)
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        # nothing above the article's own header (the theme's top bar held only a second search)
        return measure(page), page.evaluate("document.querySelector('.bd-header-article').getBoundingClientRect().top")
    finally:
        page.close()


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_the_window(browser, book_server: str, name: str, width: int):
    phone = width < 1280
    result, header_top = measured(browser, f"{book_server}/{name}.html", PHONE if phone else DESKTOP,
                                  PHONE_SCREENSHOTS / f"{name.replace('/', '_')}.png" if phone else None)
    kinds = KINDS if width >= 1280 else PHONE_KINDS
    assert not any(result[k] for k in kinds), f"{name} at {width} px does not fit:\n" + describe(result, kinds)
    if width >= 1280:
        assert result["column"] >= COLUMN_PX, f"the text column is {result['column']} px, figures assume {COLUMN_PX}"
        assert header_top == 0, f"{header_top} px of bar above the article's header"


@pytest.mark.parametrize("name", PAGES)
def test_no_display_equation_breaks_at_desktop_width(browser, book_server: str, name: str):
    """At 1280 px every display equation has room on its line, so MathJax breaks none (it broke 95
    of 123 when its measuring element shared the formula's flex row with the TeX: book.css)."""
    page = browser.new_page(viewport=DESKTOP)
    try:
        open_page(page, f"{book_server}/{name}.html")
        broken = page.evaluate("""() => Array.from(document.querySelectorAll(
            'article mjx-container[display="true"]')).filter(c =>
            c.querySelector('mjx-linestack, mjx-break, mjx-linebox')).map(c =>
            (c.closest('div.math') || c).id || c.textContent.slice(0, 40))""")
    finally:
        page.close()
    assert not broken, f"{name}: display equations broken into lines at 1280 px: {broken}"


def test_display_equations_fit_a_phone(browser, book_server: str):
    """At 390 px at least MIN_FIT of the book's display equations fit their column; the others scroll
    in a box a keyboard can reach (book.js: tabindex, role and name), and each is named here."""
    fit = total = 0
    cut, unreachable = [], []
    for name in PAGES:
        page = browser.new_page(viewport=PHONE)
        try:
            open_page(page, f"{book_server}/{name}.html")
            result = measure(page)
            unreachable += [f"{name}: {label}" for label in page.evaluate("""() => Array.from(
                document.querySelectorAll('article mjx-container[display="true"]')).filter(c =>
                c.scrollWidth > c.clientWidth + 1 && !(c.tabIndex === 0 && c.getAttribute('role') && c.getAttribute('aria-label'))
              ).map(c => (c.closest('div.math') || c).id || c.textContent.slice(0, 40))""")]
        finally:
            page.close()
        fit += result["counts"]["fit"]
        total += result["counts"]["equations"]
        cut += [f"  {name}: {e['name']} ({e['content']} px in {e['shown']} px)" for e in result["equations"]]
    assert total > 0, "no display equation measured; did the selector change?"
    assert fit >= MIN_FIT * total, (f"{fit} of {total} display equations ({fit / total:.0%}) fit at 390 px, "
                                    f"fewer than {MIN_FIT:.0%}; cut:\n" + "\n".join(cut))
    assert not unreachable, f"equations that scroll but cannot be reached by the keyboard: {unreachable}"


def test_a_figure_opens_full_size_on_a_tap(browser, book_server: str):
    """On a phone, a tap on chapter 1's figure (shown below READABLE_RATIO of its width) opens it at its
    natural size in a dialog, its smallest text at 8 pt again; Escape closes it and the focus
    returns to the link, which Enter opens too."""
    page = browser.new_page(viewport=PHONE, has_touch=True)
    try:
        open_page(page, f"{book_server}/{CHAPTERS[0]}.html")
        link = page.locator("article a.figure-open:has(img)").first
        shown = link.locator("img").evaluate("i => i.clientWidth / i.naturalWidth")
        assert shown < READABLE_RATIO, "chapter 1's first figure fits a phone now; pick a wider one for this test"
        link.tap()
        dialog = page.locator("dialog.figure-full[open]")
        dialog.wait_for()
        full = dialog.locator("img").evaluate("i => i.complete && i.naturalWidth ? i.clientWidth / i.naturalWidth : 0")
        assert full >= 0.99, f"the figure opened at {full:.0%} of its natural width"
        page.keyboard.press("Escape")
        page.locator("dialog.figure-full[open]").wait_for(state="hidden")
        assert page.evaluate("document.activeElement.classList.contains('figure-open')"), "the focus did not return"
        page.keyboard.press("Enter")
        dialog.wait_for()
        assert page.evaluate("document.activeElement.closest('dialog') !== null"), "the dialog did not take the focus"
    finally:
        page.close()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
@pytest.mark.parametrize("name", ["book/ch1_conv_mse", "book/ch4_frobenius"])  # the most figures and formulas
def test_the_page_does_not_move_under_the_reader(browser, book_server: str, name: str, viewport: dict):
    """Cumulative layout shift (PerformanceObserver, session windows as Lighthouse counts them) at most
    MAX_CLS: images carry their size, and the article shows once MathJax has typeset it."""
    context = browser.new_context(viewport=viewport)
    try:
        context.add_init_script(CLS_INIT_JS)
        page = context.new_page()
        open_page(page, f"{book_server}/{name}.html")
        page.wait_for_timeout(1000)  # what moves after the math is typeset counts too
        cls = layout_shift(page)
    finally:
        context.close()
    assert cls <= MAX_CLS, f"{name} at {viewport['width']} px: cumulative layout shift {cls:.3f} > {MAX_CLS}"


def test_the_site_is_light(built_book: Path):
    """Outside lite/: at most MAX_SITE_BYTES, no source map, MathJax's files exactly those its pages can
    load (book/_ext/mathjax4.py), no fontawesome.js anywhere, book.js deferred on every page."""
    from bookext.mathjax4 import STATIC, served_files

    outside = [p for p in built_book.rglob("*") if p.is_file() and p.relative_to(built_book).parts[0] != "lite"]
    maps = [str(p.relative_to(built_book)) for p in outside if p.suffix == ".map"]
    assert not maps, f"source maps shipped: {maps[:5]}"
    mathjax = built_book / "_static" / STATIC
    served = {p.relative_to(mathjax).as_posix() for p in mathjax.rglob("*") if p.is_file()}
    assert served == set(served_files()), f"MathJax files no page loads: {sorted(served - set(served_files()))[:5]}"
    assert not (built_book / "_static" / "scripts" / "fontawesome.js").exists()
    weight = site_weight(built_book)
    assert weight <= MAX_SITE_BYTES, f"the site outside lite/ is {weight / 1e6:.1f} MB, over {MAX_SITE_BYTES / 1e6:.0f} MB"
    for name in PAGES:
        soup = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        scripts = {s["src"].split("?")[0].rsplit("/", 1)[-1]: s for s in soup.find_all("script", src=True)}
        assert "fontawesome.js" not in scripts, name
        assert scripts["book.js"].has_attr("defer"), f"{name}: book.js is not deferred"


def test_chapter_1_first_view_is_light(browser, book_server: str):
    """What a first visit to chapter 1 on a phone loads (every request until the network is quiet,
    its workers' included): at most MAX_FIRST_VIEW_BYTES."""
    context = browser.new_context(viewport=PHONE)
    try:
        view = first_view(context, f"{book_server}/{CHAPTERS[0]}.html")
    finally:
        context.close()
    largest = sorted(view["files"].items(), key=lambda item: -item[1])[:8]
    assert view["bytes"] <= MAX_FIRST_VIEW_BYTES, (
        f"chapter 1's first view: {view['requests']} requests, {view['bytes'] / 1e6:.2f} MB; the largest:\n"
        + "\n".join(f"  {size:>9} {url}" for url, size in largest))


@pytest.mark.parametrize("name", PAGES)
def test_no_cell_shows_an_error_or_a_warning(built_book: Path, name: str):
    soup = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
    shown = [div.get_text()[-300:] for div in soup.select("div.output.traceback, div.output.stderr")]
    assert not shown, f"{name} shows errors or warnings in its outputs:\n" + "\n---\n".join(shown)


@pytest.mark.parametrize("name", CHAPTERS)
def test_code_cells_fit(name: str):
    cells = jupytext.read(ROOT / f"{name}.md", fmt="md:myst").cells
    long = [
        f"cell {i} line {j}: {line[:60]}... ({len(line)} characters)"
        for i, cell in enumerate(cells) if cell.cell_type == "code"
        for j, line in enumerate(cell.source.splitlines(), 1) if len(line) > MAX_LINE
    ]
    assert not long, f"{name}: code lines longer than {MAX_LINE} characters:\n" + "\n".join(long)


def printed_outputs(html: str) -> list[str]:
    """The text of every printed output (stream and text/plain) of the page's code cells."""
    soup = BeautifulSoup(html, "html.parser")
    return [pre.get_text() for pre in soup.select("div.cell_output pre")]


@pytest.mark.parametrize("name", CHAPTERS)
def test_printed_outputs_fit_and_round(built_book: Path, name: str):
    outputs = printed_outputs((built_book / f"{name}.html").read_text(encoding="utf-8"))
    assert outputs, f"{name}: no printed output found; did the selector change?"
    long, precise = [], []
    for text in outputs:
        for line in text.splitlines():
            if len(line) > MAX_LINE:
                long.append(f"{line[:60]}... ({len(line)} characters)")
            precise += [m.group(0) for m in NUMBER.finditer(line) if significant_digits(m) > MAX_DIGITS]
    assert not long, f"{name}: printed lines longer than {MAX_LINE} characters:\n" + "\n".join(long)
    assert not precise, f"{name}: numbers printed with more than {MAX_DIGITS} significant digits: {precise[:10]}"


STEP_LINE = re.compile(r"central diff\. \d\.\de[+-]\d\d  complex step \d\.\de[+-]\d\d")  # check_step's text form


@pytest.mark.parametrize("name", CHAPTERS)
def test_checks_show_as_tables_that_stack(built_book: Path, name: str):
    """Every check_step of a chapter shows on its page as its one-row table (quantity, shape, both
    errors, verdict), which book.css stacks into a card at 390 px, each value under its name
    (book/_ext/pagefixes.py): not as its text line, which a phone wraps out of alignment."""
    html = (built_book / f"{name}.html").read_text(encoding="utf-8")
    as_text = [t.strip()[:70] for t in printed_outputs(html) if STEP_LINE.search(t)]
    assert not as_text, f"{name}: checks shown as text lines (a print(...) of a check?): {as_text[:5]}"
    code = "\n".join(c.source for c in jupytext.read(ROOT / f"{name}.md", fmt="md:myst").cells
                     if c.cell_type == "code")
    soup = BeautifulSoup(html, "html.parser")
    steps = [t for t in soup.select("div.cell_output table.gradcheck")
             if [th.get_text(strip=True) for th in t.thead.find_all("th")][-1:] == ["verdict"]]
    if re.search(r"\bcheck_step\(", code):
        assert steps, f"{name} calls check_step, but its page shows no check's table"
    for table in steps:
        cells = table.tbody.select("tr > th, tr > td")
        labels = [c.select_one("div.td-label") for c in cells]
        assert all(labels), f"{name}: a check's cell without its name for the stacked layout: {table}"
        assert cells[-1].select_one("div.td-value").get_text(strip=True) == "pass", table


def test_the_number_rule_sees_what_it_must():
    """The digit counter flags the issue's examples and passes the book's formats."""
    def digits(text: str) -> int:
        return significant_digits(NUMBER.search(text))
    assert digits("L = 0.05088064806092798") > MAX_DIGITS
    assert digits("loss 480.32929705370606") > MAX_DIGITS
    assert digits("error 1.2e-09") <= MAX_DIGITS
    assert digits("L = 0.05088") <= MAX_DIGITS
    assert digits("[ 0.1234 -0.5678]") <= MAX_DIGITS
