"""`make pdf`'s route: the single-page HTML build printed by Chromium, checked with pypdf."""

from __future__ import annotations

import re
import unicodedata
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest
from bookbuild import BUILD, ROOT, current_build, toc_files


def page_title(name: str) -> str:
    """The first '# ' heading of a page's source (outside code cells, whose comments start so too)."""
    text = (ROOT / f"{name}.md").read_text(encoding="utf-8")
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.search(r"^# (.+)$", text, flags=re.M).group(1).strip()


@pytest.fixture(scope="module")
def pdf(built_book: Path) -> Path:  # after the HTML build: Sphinx's environment and the execution are reused
    current_build("singlehtml")
    out = BUILD / "pdf" / "book.pdf"
    out.unlink(missing_ok=True)
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_pdf.py"), str(BUILD / "singlehtml"), str(out)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    formulas = int(re.search(r"(\d+) typeset formulas", done.stdout).group(1))
    assert formulas >= 20 * len(toc_files()) // 3, done.stdout  # the book has hundreds; a failed MathJax has 0
    return out


def test_pdf_has_every_chapter_and_a_plausible_length(pdf: Path):
    reader = pypdf.PdfReader(pdf)
    pages = len(reader.pages)
    names = toc_files()
    assert 2 * len(names) <= pages <= 60 * len(names), pages
    # NFKC folds the ligatures Chromium's fonts use (ﬁ, ﬀ) back into letters
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFKC", " ".join(p.extract_text() for p in reader.pages)))
    for name in names:
        title = page_title(name)
        assert re.sub(r"\s+", " ", title) in text, f"{title!r} ({name}) is not in the PDF"
    # a table of contents at the front, and bookmarks
    assert "Contents" in " ".join(p.extract_text() for p in reader.pages[:2])
    assert len(reader.outline) > 0
