"""The HTML book as a reader meets it: every toc page in headless Chromium (Debian's), served on 127.0.0.1.

For each page: no console error, no failed request, no request to any other host, math typeset
by MathJax with no raw TeX left in the text, every image loaded and described, the
previous/next links in toc order, and a screenshot in _build/screenshots/. Then the search page,
and each chapter's .ipynb download, validated and executed.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from bookbuild import BUILD, toc_files
from helpers import open_page
from nbclient import NotebookClient

PAGES = toc_files()
SCREENSHOTS = BUILD / "screenshots"
RAW_TEX = ("$$", "\\frac", "\\begin{", "\\partial", "\\mathbf")
# text of the page outside code, code output and MathJax's own markup: where raw TeX would show
VISIBLE_PROSE_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, .cell_output, .output, mjx-container, script, style, .MathJax')
       .forEach(e => e.remove());
  return clone.innerText;
}"""


@pytest.mark.parametrize("name", PAGES)
def test_page_in_a_browser(page, book_server: str, name: str):
    problems = open_page(page, f"{book_server}/{name}.html")
    assert not problems["foreign"], f"requests to other hosts: {problems['foreign']}"
    assert not problems["failed"], f"failed requests: {problems['failed']}"
    assert not problems["console"], f"console errors: {problems['console']}"

    source = (Path(__file__).resolve().parents[1] / f"{name}.md").read_text(encoding="utf-8")
    if re.search(r"\$|\{math\}", source):
        assert page.locator("mjx-container").count() > 0, "math in the source, but MathJax typeset nothing"
    prose = page.evaluate(VISIBLE_PROSE_JS)
    leftovers = [tex for tex in RAW_TEX if tex in prose]
    assert not leftovers, f"raw TeX visible on the page: {leftovers}"

    images = page.evaluate("""() => Array.from(document.images).map(i => ({
        src: i.getAttribute('src'), loaded: i.complete && i.naturalWidth > 0, alt: (i.getAttribute('alt') || '').trim()}))""")
    for img in images:
        assert img["loaded"], f"image did not load: {img['src']}"
        assert img["alt"] and not img["alt"].endswith(".png"), f"image without a description: {img['src']}"

    index = PAGES.index(name)
    links = page.evaluate("""() => ({
        prev: document.querySelector('a.left-prev') ? document.querySelector('a.left-prev').href : null,
        next: document.querySelector('a.right-next') ? document.querySelector('a.right-next').href : null})""")
    expected_prev = f"{book_server}/{PAGES[index - 1]}.html" if index > 0 else None
    expected_next = f"{book_server}/{PAGES[index + 1]}.html" if index + 1 < len(PAGES) else None
    assert (links["prev"] or None) == expected_prev, links
    assert (links["next"] or None) == expected_next, links

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name.replace('/', '_')}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


@pytest.mark.parametrize("word", ["softmax", "Frobenius"])
def test_search_finds(page, book_server: str, word: str):
    problems = open_page(page, f"{book_server}/search.html?q={word}")
    page.wait_for_selector("#search-results ul.search li", timeout=30_000)
    hits = page.locator("#search-results ul.search li").count()
    assert hits > 0
    assert not problems["foreign"] and not problems["failed"] and not problems["console"], problems


CHAPTERS = [name for name in PAGES if (Path(__file__).resolve().parents[1] / f"{name}.md").read_text(encoding="utf-8").startswith("---")]


@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_notebook_download(page, book_server: str, name: str, tmp_path: Path):
    open_page(page, f"{book_server}/{name}.html")
    link = page.locator("a.btn-download-notebook-button")
    assert link.count() == 1, "no .ipynb in the page's download menu"
    href = link.first.get_attribute("href")
    response = page.request.get(page.url.rsplit("/", 1)[0] + "/" + href)
    assert response.ok
    target = tmp_path / Path(href).name
    target.write_bytes(response.body())
    nb = nbformat.read(target, as_version=4)
    nbformat.validate(nb)
    assert sum(cell.cell_type == "code" for cell in nb.cells) >= 1
    book_dir = Path(__file__).resolve().parents[1] / "book"
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(book_dir)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
