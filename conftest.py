"""Let nbval run the MyST Markdown chapters in book/ directly, read through jupytext.

nbval collects only .ipynb files. This plugin collects every ``book/*.md`` file that has a
jupytext header (a MyST notebook) as an nbval notebook, so no .ipynb copy is needed and the
kernel runs in book/, the same folder Jupyter Book executes it in.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import nbval.plugin as nbval_plugin

# the book's own test of "is this a MyST notebook", shared with the extension that offers .ipynb downloads
from bookext.notebooks import is_myst_notebook

BOOK = Path(__file__).resolve().parent / "book"


class _NbformatReadingMyst:
    """Stand-in for the nbformat module inside nbval: reads .md notebooks through jupytext."""

    def __getattr__(self, name: str) -> object:
        return getattr(nbformat, name)

    @staticmethod
    def read(path: str, as_version: int = 4) -> nbformat.NotebookNode:
        if str(path).endswith(".md"):
            return jupytext.read(path, fmt="md:myst")
        return nbformat.read(path, as_version=as_version)


nbval_plugin.nbformat = _NbformatReadingMyst()


def pytest_collect_file(file_path: Path, parent):  # noqa: ANN001, ANN201 - pytest hook
    opt = parent.config.option
    if (opt.nbval or opt.nbval_lax) and file_path.parent == BOOK and is_myst_notebook(file_path):
        return nbval_plugin.IPyNbFile.from_parent(parent, path=file_path)
    return None
