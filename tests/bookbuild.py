"""The book under test, for the tests: its pages and chapters, and its build.

The book under test is the one `make book` builds: `built_book` (tests/conftest.py) and the PDF
test call scripts/build_if_changed.py, which reuses `_build/html` (or `_build/singlehtml`)
while no source has changed since its last successful build, and otherwise builds it as
`make book` does (warnings as errors; every page re-read after a failed build). `build_book`
here runs a full build of another root (the throwaway books of tests/test_book.py).
`toc_files()` and `CHAPTERS` are the pages of `_toc.yml` and those of them that are notebooks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bookext.notebooks import is_myst_notebook
from bookscripts import build_if_changed  # the one place that decides whether a build is current

ROOT = Path(__file__).resolve().parents[1]
BUILD = build_if_changed.BUILD
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def toc_files() -> list[str]:
    """The pages of ``_toc.yml`` in order (``book/intro``, ``book/ch1_conv_mse``, ...)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


# the pages that are MyST notebooks: the chapters with code (downloads, in-browser notebooks, nbval)
CHAPTERS = [name for name in toc_files() if is_myst_notebook(ROOT / f"{name}.md")]


def current_build(builder: str) -> Path:
    """``_build/<builder>`` built from the current sources: the one `make book` (or `make pdf`) left if
    nothing changed since, else built now the same way (scripts/build_if_changed.py); fails the test
    with the build's output if the build fails."""
    done = build_if_changed.build(builder, capture=True)
    if done is not None and done.returncode != 0:
        pytest.fail(f"the book build failed (exit {done.returncode}):\n{done.stdout[-6000:]}\n{done.stderr[-6000:]}")
    return BUILD / builder


def build_book(root: Path, out: Path | None = None, toc: Path | None = None, builder: str = "html") -> subprocess.CompletedProcess:
    """Run the book build (warnings as errors, every page re-read) and return the finished process."""
    cmd = [str(JUPYTER_BOOK), "build", str(root), "--all", "-W", "-n", "--keep-going", "--builder", builder]
    if out is not None:
        cmd += ["--path-output", str(out)]
    if toc is not None:
        cmd += ["--toc", str(toc)]
    # no MPLBACKEND=Agg here: the kernel must use its inline backend, or plt.show() draws nothing
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env, timeout=1800)


