"""The book builds with warnings as errors, every toc page exists, nothing is fetched from a CDN,
and a cell that raises fails both the build and nbval."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupyter_book
import jupytext
import pytest
from bookbuild import ROOT, build_book, toc_files

from bookext.libhash import library_hash


def test_jupyter_book_is_1x():
    # 2.x ignores _config.yml and _toc.yml and "builds" nothing from them
    assert jupyter_book.__version__.startswith("1."), jupyter_book.__version__


def test_every_toc_page_is_built(built_book: Path):
    assert (built_book / "index.html").exists()
    files = toc_files()
    assert len(files) >= 3
    for name in files:
        page = built_book / f"{name}.html"
        assert page.exists(), f"{name} is in _toc.yml but {page} was not built"
        assert "<h1" in page.read_text(encoding="utf-8")


def declared_figures(path: Path) -> int:
    """Code cells of a MyST notebook that declare image alt text and whose output the page shows."""
    if not path.read_text(encoding="utf-8").startswith("---"):
        return 0
    cells = jupytext.read(path, fmt="md:myst").cells
    hidden = {"remove-output", "remove-cell"}
    return sum(
        1 for c in cells
        if c.cell_type == "code" and "image" in c.metadata.get("mystnb", {}) and not hidden & set(c.metadata.get("tags", []))
    )


def test_every_declared_figure_is_in_the_html(built_book: Path):
    """A cell that declares alt text for its image must have produced that image (a figure
    can vanish silently, e.g. when the kernel runs a non-interactive matplotlib backend)."""
    for name in toc_files():
        declared = declared_figures(ROOT / f"{name}.md")
        html = (built_book / f"{name}.html").read_text(encoding="utf-8")
        shown = len(re.findall(r"<img\b", html))
        assert shown >= declared, f"{name}: {declared} figures declared, {shown} images in the page"


def test_every_chapter_source_is_in_the_toc():
    listed = set(toc_files())
    for path in (ROOT / "book").glob("*.md"):
        assert f"book/{path.stem}" in listed, f"{path.name} is not listed in _toc.yml"


URL_ATTR = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"'](https?:)?//", re.I)
CSS_URL = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])(?:https?:)?//", re.I)


def test_no_page_asset_needs_the_network(built_book: Path):
    offenders = []
    for page in built_book.rglob("*.html"):
        for match in URL_ATTR.finditer(page.read_text(encoding="utf-8")):
            offenders.append(f"{page.relative_to(built_book)}: {match.group(0)}")
    for sheet in built_book.rglob("*.css"):
        if CSS_URL.search(sheet.read_text(encoding="utf-8", errors="replace")):
            offenders.append(str(sheet.relative_to(built_book)))
    assert not offenders, "assets from the network:\n" + "\n".join(offenders[:20])


def test_mathjax_is_served_locally(built_book: Path):
    page = (built_book / "book" / "appendix_checks.html").read_text(encoding="utf-8")
    # MathJax 4's loader from the site itself (book/_ext/mathjax4.py), then its components from the same folder
    assert re.search(r'<script[^>]+src="\.\./_static/mathjax/startup\.js', page)
    assert (built_book / "_static" / "mathjax" / "startup.js").stat().st_size > 10_000
    assert (built_book / "_static" / "mathjax" / "core.js").stat().st_size > 100_000
    assert not re.search(r"require\.js|html-manager|jupyter-widgets|thebe-lab", page)


def test_library_hash_changes_with_the_library(tmp_path: Path):
    (tmp_path / "backprop_lib").mkdir()
    module = tmp_path / "backprop_lib" / "m.py"
    module.write_text("X = 1\n")
    before = library_hash(tmp_path)
    assert library_hash(tmp_path) == before
    module.write_text("X = 2\n")
    assert library_hash(tmp_path) != before


FAILING_CHAPTER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---

# A chapter whose check fails

```{code-cell} ipython3
import backprop_lib
assert 1 + 1 == 3, "this claim is false"
```
"""


@pytest.fixture(scope="module")
def book_with_failing_chapter(tmp_path_factory) -> Path:
    """A copy of the book's skeleton with one throwaway chapter whose cell raises."""
    root = tmp_path_factory.mktemp("failing-book")
    for name in ("_config.yml", "conftest.py"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("_ext", "_static"):  # the book's extensions, stylesheet and script (named in _config.yml)
        shutil.copytree(ROOT / "book" / folder, root / "book" / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("references.bib", "bibliography.md", "appendix_checks.md", "matplotlibrc"):
        shutil.copy(ROOT / "book" / name, root / "book" / name)
    (root / "book" / "intro.md").write_text("# A book with one failing chapter\n")
    (root / "book" / "throwaway.md").write_text(FAILING_CHAPTER)
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: Test\n    chapters:\n"
        "      - file: book/throwaway\n      - file: book/appendix_checks\n      - file: book/bibliography\n"
    )
    return root


def test_a_raising_cell_fails_the_build(book_with_failing_chapter: Path):
    result = build_book(book_with_failing_chapter)
    assert result.returncode != 0
    assert "this claim is false" in result.stdout + result.stderr


def test_the_same_book_without_the_raising_cell_builds(book_with_failing_chapter: Path, tmp_path: Path):
    """The failure above is the cell's: with the claim made true, the same copy builds."""
    page = book_with_failing_chapter / "book" / "throwaway.md"
    original = page.read_text()
    page.write_text(original.replace("1 + 1 == 3", "1 + 1 == 2"))
    try:
        result = build_book(book_with_failing_chapter, out=tmp_path)
    finally:
        page.write_text(original)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


def test_a_raising_cell_fails_nbval(book_with_failing_chapter: Path):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env", "book/throwaway.md"],
        cwd=book_with_failing_chapter, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 1, result.stdout[-3000:]
    assert "1 failed" in result.stdout and "this claim is false" in result.stdout
