"""The page fits the reader: no cut equation, no code off the edge, no shrunken figure, no page
that scrolls sideways, and numbers printed with a precision that means something.

- In Chromium at 1280 px (a desktop) every toc page has zero display equations wider than
  their box, zero ``pre`` blocks that scroll, zero content images shown at less than half
  their natural width, and no sideways scroll of the page; at 390 px (a phone) the page itself
  never scrolls sideways (an equation or code block may scroll inside its own box, and
  book.css draws a shadow at the edge that hides more). See tests/layout.py. At 1280 px no
  bar sits above the article's header (the theme's top bar, a second search field only).
- The text column at 1280 px is at least as wide as the width figures are drawn for
  (backprop_lib.plotting.COLUMN_PX), and no page shows an error or a warning in a cell's
  output (a figure whose text would be too small raises one: book/matplotlibrc).
- Every code cell of every chapter (read through jupytext) and every printed output of the
  build (the text of the executed cells' outputs in the HTML) has lines of at most 80
  characters, and no printed number carries more than 6 significant digits.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from backprop_lib.plotting import COLUMN_PX
from bookbuild import ROOT, toc_files
from bs4 import BeautifulSoup
from helpers import open_page

from bookscripts.page_layout import KINDS, describe, measure

PAGES = toc_files()
CHAPTERS = [name for name in PAGES if (ROOT / f"{name}.md").read_text(encoding="utf-8").startswith("---")]
MAX_LINE = 80
MAX_DIGITS = 6
# a decimal number as Python or NumPy prints it: 0.05088064806092798, -1.5e-08, 480.329
NUMBER = re.compile(r"(?<![\w.])-?(\d+)\.(\d+)(?:e[+-]?\d+)?(?![\w.])")


def significant_digits(match: re.Match) -> int:
    """Significant digits of a printed decimal number (leading zeros do not count)."""
    return len((match.group(1) + match.group(2)).lstrip("0")) or 1


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_the_window(browser, book_server: str, name: str, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        open_page(page, f"{book_server}/{name}.html")
        result = measure(page)
        # nothing above the article's own header (the theme's top bar held only a second search)
        header_top = page.evaluate("document.querySelector('.bd-header-article').getBoundingClientRect().top")
    finally:
        page.close()
    kinds = KINDS if width >= 1280 else ("page",)
    assert not any(result[k] for k in kinds), f"{name} at {width} px does not fit:\n" + describe(result, kinds)
    if width >= 1280:
        assert result["column"] >= COLUMN_PX, f"the text column is {result['column']} px, figures assume {COLUMN_PX}"
        assert header_top == 0, f"{header_top} px of bar above the article's header"


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


def test_the_number_rule_sees_what_it_must():
    """The digit counter flags the issue's examples and passes the book's formats."""
    def digits(text: str) -> int:
        return significant_digits(NUMBER.search(text))
    assert digits("L = 0.05088064806092798") > MAX_DIGITS
    assert digits("loss 480.32929705370606") > MAX_DIGITS
    assert digits("error 1.2e-09") <= MAX_DIGITS
    assert digits("L = 0.05088") <= MAX_DIGITS
    assert digits("[ 0.1234 -0.5678]") <= MAX_DIGITS
