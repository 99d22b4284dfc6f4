"""Build the book only when its sources changed: the one place that decides whether a build is current.

Usage: python scripts/build_if_changed.py [html|singlehtml]

`make book` (html), `make pdf` (singlehtml) and the tests' fixtures (tests/conftest.py's
`built_book`, tests/test_pdf.py) all call this, so a build made by one is reused by the others
while nothing it depends on has changed; `make book && make test` executes each chapter once.

- **Current**: `_build/<builder>/.source-hash` holds the hash of every file the build reads
  (see `source_hash`), written after a successful build. If it matches, nothing is run.
- **Otherwise** it runs Jupyter Book 1 with warnings as errors (`-W -n --keep-going`).
  After a successful build of either builder (`_build/.book-ok` exists; the builders share
  Sphinx's environment in `_build/.doctrees`) the build is incremental: Sphinx re-reads only
  the pages that changed, and a change in backprop_lib re-reads and re-executes every page
  (book/_ext/libhash.py). Without that marker (no build yet, or the last one failed) it passes
  `--all`: every page is re-read, so a build after a failed one fails again instead of passing
  on stale pages. The marker and the hash are removed before a build and written only after
  it succeeded.
- A lock on `_build/.build.lock` makes parallel callers (pytest's workers, a `make book` in
  another shell) wait for one build instead of running two.

Anything that becomes part of `_build/html` belongs in the Sphinx build (as the JupyterLite
site does: book/_ext/lite.py) or in `build()` below, and the files it reads in `source_hash`,
so that "current" keeps meaning "everything the tests check is up to date".
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
OK = BUILD / ".book-ok"
LOCK = BUILD / ".build.lock"
BUILDERS = ("html", "singlehtml")
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def source_hash(root: Path | None = None) -> str:
    """SHA-256 over the paths and bytes of everything a build reads.

    The config and toc, every file under book/ (pages, bibliography, extensions; not the
    git-ignored .ipynb copies or caches), backprop_lib/ (the chapters import it),
    requirements.txt (the versions that build it), pyproject.toml and README.md (the inputs of
    the backprop_lib wheel the site offers, book/_ext/libwheel.py) and this script (the command
    it runs).
    """
    root = ROOT if root is None else root
    files = [root / "_config.yml", root / "_toc.yml", root / "requirements.txt", root / "pyproject.toml",
             root / "README.md", root / "scripts" / Path(__file__).name]
    files += sorted(p for p in (root / "book").rglob("*") if p.is_file() and p.suffix != ".ipynb"
                    and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts))
    files += sorted((root / "backprop_lib").rglob("*.py"))
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"(missing)")
    return digest.hexdigest()


def stamp(builder: str) -> Path:
    return BUILD / builder / ".source-hash"


def is_current(builder: str, hashed: str | None = None) -> bool:
    """True when ``_build/<builder>`` was built successfully from the sources as they are now
    (``hashed``: their :func:`source_hash`, if already computed)."""
    page = BUILD / builder / ("index.html" if builder == "html" else "book/intro.html")
    if not (stamp(builder).exists() and page.exists()):
        return False
    return stamp(builder).read_text().strip() == (hashed or source_hash())


def build(builder: str = "html", *, capture: bool = False) -> subprocess.CompletedProcess | None:
    """Build ``_build/<builder>`` unless it is current; return the finished build, or None if none was needed.

    With ``capture`` the build's output is returned instead of printed (the tests show it on failure).
    """
    if builder not in BUILDERS:
        raise ValueError(f"builder: expected one of {BUILDERS}, got {builder!r}")
    BUILD.mkdir(exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        wanted = source_hash()
        if is_current(builder, wanted):
            return None
        fresh = [] if OK.exists() else ["--all"]
        OK.unlink(missing_ok=True)
        stamp(builder).unlink(missing_ok=True)
        cmd = [str(JUPYTER_BOOK), "build", str(ROOT), *fresh, "-W", "-n", "--keep-going", "--builder", builder]
        # no MPLBACKEND=Agg here: the kernels must use the inline backend, or plt.show() draws nothing
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        done = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=capture, timeout=3600)
        if done.returncode == 0:
            OK.touch()
            stamp(builder).write_text(wanted + "\n")
        return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builder", nargs="?", default="html", choices=BUILDERS)
    args = parser.parse_args()
    done = build(args.builder)
    if done is None:
        print(f"_build/{args.builder} is current (built from these sources): nothing to do")
        return 0
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
