"""`make notebooks`: write book/<chapter>.ipynb, converted exactly as the site's downloads are.

Usage: python scripts/make_notebooks.py [--index _build/.doctrees/notebooks-index.json] [--out DIR] [--base-url URL]

The equation numbers and resolved references come from the record the HTML build keeps of the
Sphinx environment (book/_ext/notebooks.py writes it), and the conversion is the same module
(book/_ext/jupyter_markdown.py); `make notebooks` builds the book first, so they agree with the
HTML. A source changed since that build is refused (its numbers could have changed).

Links: a reference in these notebooks points to its page in the HTML book. Without --base-url
(and without html_baseurl in the config) that is the local build, relative to the notebook
(book/ch2.ipynb -> ../_build/html/book/ch1_conv_mse.html#equation-ch1-da), which Jupyter opens
from the clone; with --base-url, the page under that URL (a published copy of the book).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import nbformat

from bookext import jupyter_markdown as jm
from bookext import libwheel

ROOT = Path(__file__).resolve().parents[1]

INDEX = ROOT / "_build" / ".doctrees" / "notebooks-index.json"
HTML = ROOT / "_build" / "html"


def clone_preamble(page: jm.PageRefs, wheel: str) -> str:
    """The install note of a notebook written in a clone."""
    chapter = f"chapter {page.number} of " if page.number else ""
    return (
        f"> **To run this notebook** ({chapter}*Backprop, Derived and Checked*, written by `make notebooks` "
        f"from `{page.docname}.md`): in this clone, `make setup` has installed everything in `.venv`; run "
        f"Jupyter from it (`make lab`) or choose its kernel. Elsewhere, install the book's library from the "
        f"wheel the book's site offers beside every notebook: `pip install \"{wheel}[book]\"` (Python 3.11 or later)."
        f"\n>\n"
        f"> Equation numbers and links refer to the HTML book (`make book` builds it in `_build/html`); "
        f"solutions are folded (click to open)."
    )


def local_href(notebook: Path, html: Path = HTML):
    """Links to the local HTML build, relative to the notebook's folder."""

    def href(site_path: str) -> str:
        path, _, anchor = site_path.partition("#")
        rel = Path(os.path.relpath(html / path, notebook.parent)).as_posix()
        return rel + (f"#{anchor}" if anchor else "")

    return href


def write_notebooks(index_path: Path = INDEX, out: Path | None = None, base_url: str | None = None) -> list[Path]:
    """Convert every chapter recorded in the index; return the notebooks written."""
    if not index_path.is_file():
        raise SystemExit(f"{index_path} not found: build the book first (make book)")
    index = json.loads(index_path.read_text(encoding="utf-8"))
    base_url = base_url or index.get("html_baseurl") or None
    written = []
    for docname, data in index["pages"].items():
        page = jm.PageRefs.from_json(data)
        source = ROOT / f"{docname}.md"
        if hashlib.sha256(source.read_bytes()).hexdigest() != page.source_sha256:
            raise SystemExit(f"{source} changed since the book was built: run make book (make notebooks does)")
        target = (out / f"{Path(docname).name}.ipynb") if out else ROOT / f"{docname}.ipynb"
        href = jm.absolute_href(base_url) if base_url else local_href(target)
        nb = jm.convert_notebook(jm.read_myst(source), page, href, index["extensions"], source_dir=source.parent,
                                 preamble=clone_preamble(page, index["wheel"] or libwheel.wheel_name(ROOT)))
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
        written.append(target)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=INDEX)
    parser.add_argument("--out", type=Path, default=None, help="write here instead of beside the sources")
    parser.add_argument("--base-url", default=os.environ.get("BOOK_URL") or None,
                        help="link to the book under this URL instead of the local build (or set BOOK_URL)")
    args = parser.parse_args()
    for path in write_notebooks(args.index, args.out, args.base_url):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


if __name__ == "__main__":
    main()
