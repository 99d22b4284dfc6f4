"""Sphinx extension: offer every chapter as a Jupyter notebook (.ipynb) for download.

The chapters are MyST Markdown notebooks. For each page whose source is one, this writes
``_sources/<page>.ipynb`` (converted by jupytext, without outputs: a reader runs it) into the
HTML output and sets ``ipynb_source`` in the page context, so that sphinx-book-theme's
download menu lists ".ipynb" beside ".md" and ".pdf".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jupytext
from sphinx.application import Sphinx


def is_myst_notebook(path: Path) -> bool:
    """True for a Markdown file whose front matter declares a jupytext MyST notebook."""
    if path.suffix != ".md" or not path.is_file():
        return False
    head = path.read_text(encoding="utf-8")[:600]
    return head.startswith("---") and "format_name: myst" in head


def _offer_notebook(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if doctree is None or pagename not in app.env.all_docs:
        return
    source = Path(app.env.doc2path(pagename))
    if not is_myst_notebook(source):
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(source, fmt="md:myst"), target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app: Sphinx) -> dict:
    # before sphinx-book-theme's add_header_buttons (priority 501), which reads ipynb_source
    app.connect("html-page-context", _offer_notebook, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
