"""Building the book for the tests: one build of the HTML book per source state.

The build is the README's: Jupyter Book 1 with warnings as errors, from a clean
``_build/html`` (an incremental rebuild after a failed one would pass on stale pages). It is
reused while no source has changed since (a hash of the sources is stored beside it), and a
lock file makes parallel pytest workers wait for one build instead of starting two.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
HTML = BUILD / "html"
STAMP = HTML / ".source-hash"
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def source_hash() -> str:
    """Hash of everything the HTML depends on: config, toc, the pages, backprop_lib and the wheel's inputs."""
    digest = hashlib.sha256()
    # pyproject.toml and the README are the site's wheel's too (book/_ext/libwheel.py)
    files = [ROOT / "_config.yml", ROOT / "_toc.yml", ROOT / "pyproject.toml", ROOT / "README.md"]
    files += sorted(p for p in (ROOT / "book").rglob("*") if p.is_file() and p.suffix != ".ipynb" and "__pycache__" not in p.parts)
    files += sorted((ROOT / "backprop_lib").rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


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


