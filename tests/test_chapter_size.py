"""Each homework chapter is an argument, not a report: at most 2,500 words of prose and 200 lines
of code (shared/CHAPTER.md), counted the same way for every chapter.

- prose: words of the Markdown cells outside fenced blocks (code, ``{math}``, directives'
  options) and display math; inline math counts as one word, as a reader reads it;
- code: non-blank lines of the code cells, except cells tagged ``remove-cell``. The bound is on
  the chapter a reader reads, and the HTML page drops those cells: the set-up cell every chapter
  starts with (it installs the library in the browser, in JupyterLite, and does nothing
  elsewhere), and the hidden checks of the exercises' solutions;
- asserts: lines of code, in every code cell (removed ones too: they check), that assert
  (``assert``, ``.assert_ok()`` or ``check_step(``, which asserts a derivation step), reported,
  not bounded.

Run as a script for the table: ``.venv/bin/python tests/test_chapter_size.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HOMEWORK_PART = "The homework chapters"  # the caption of their part in _toc.yml


def homework(root: Path = ROOT) -> list[str]:
    """The chapters of the part "The homework chapters" of ``_toc.yml``, as names in ``book/``."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    (part,) = [p for p in toc["parts"] if p.get("caption") == HOMEWORK_PART]
    return [Path(c["file"]).name for c in part["chapters"]]


HOMEWORK = homework()
MAX_WORDS = 2500
MAX_CODE_LINES = 200

FENCE = re.compile(r"^(`{3,}|:{3,})[^\n]*\n.*?^\1\s*$", re.S | re.M)
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
INLINE_MATH = re.compile(r"\$[^$\n]+\$")


def prose_words(markdown: str) -> int:
    """Words a reader reads in a Markdown cell: no fenced block, no display math."""
    text = FENCE.sub(" ", markdown)
    text = DISPLAY_MATH.sub(" ", text)
    text = INLINE_MATH.sub(" math ", text)
    return len(re.findall(r"[^\s|#*>\-]+", text))


def stats(name: str) -> dict[str, int]:
    """Prose words, code lines and assert lines of ``book/<name>.md``."""
    cells = jupytext.read(ROOT / "book" / f"{name}.md", fmt="md:myst").cells

    def lines(code_cells: list) -> list[str]:
        return [line for c in code_cells for line in c.source.splitlines() if line.strip()]

    code = [c for c in cells if c.cell_type == "code"]
    shown = [c for c in code if "remove-cell" not in c.metadata.get("tags", [])]
    return {
        "words": sum(prose_words(c.source) for c in cells if c.cell_type == "markdown"),
        "code": len(lines(shown)),
        "asserts": sum(1 for line in lines(code) if re.search(r"\bassert\b|\.assert_ok\(|\bcheck_step\(", line)),
    }


@pytest.mark.parametrize("name", HOMEWORK)
def test_chapter_is_its_argument(name: str):
    s = stats(name)
    assert s["words"] <= MAX_WORDS, f"{name}: {s['words']} words of prose (at most {MAX_WORDS})"
    assert s["code"] <= MAX_CODE_LINES, f"{name}: {s['code']} lines of code (at most {MAX_CODE_LINES})"


def test_the_code_count_leaves_out_removed_cells(tmp_path, monkeypatch):
    chapter = tmp_path / "book" / "x.md"
    chapter.parent.mkdir()
    chapter.write_text("---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n"
                       "```{code-cell} ipython3\n:tags: [remove-cell]\n\nimport sys\nassert sys\n```\n\n# X\n\n"
                       "```{code-cell} ipython3\n:tags: [hide-input]\n\na = 1\n\nassert a\n```\n")
    monkeypatch.setattr(__import__(__name__), "ROOT", tmp_path)
    assert stats("x")["code"] == 2 and stats("x")["asserts"] == 2


def test_the_homework_chapters_are_read_from_the_toc(tmp_path):
    """A chapter added to the part is bounded without a change here (the list is not written twice)."""
    assert HOMEWORK and all((ROOT / "book" / f"{name}.md").is_file() for name in HOMEWORK)
    (tmp_path / "_toc.yml").write_text(
        f"parts:\n  - caption: {HOMEWORK_PART}\n    chapters:\n      - file: book/ch1_a\n      - file: book/ch7_b\n"
        "  - caption: Appendix\n    chapters:\n      - file: book/appendix\n")
    assert homework(tmp_path) == ["ch1_a", "ch7_b"]


def test_the_counter_counts_prose_only():
    cell = "Two words.\n\n```{math}\n:label: x\na + b + c\n```\n\n$$ d + e $$\n\nand $x + y$ here\n"
    assert prose_words(cell) == 5  # "Two", "words.", "and", the inline math, "here"


if __name__ == "__main__":
    names = HOMEWORK + ["ch6_autodiff", "appendix_checks"]
    print(f"{'chapter':<20} {'words':>6} {'code':>5} {'asserts':>8}")
    for n in names:
        s = stats(n)
        print(f"{n:<20} {s['words']:>6} {s['code']:>5} {s['asserts']:>8}")
