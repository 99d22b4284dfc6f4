"""Build the book only when its sources changed: the one place that decides whether a build is current.

Usage: python scripts/build_if_changed.py [html|singlehtml]

`make book` (html), `make pdf` (singlehtml) and the tests' fixtures (tests/conftest.py's
`built_book`, tests/test_pdf.py) all call this, so a build made by one is reused by the others
while nothing it depends on has changed; `make book && make test` executes each chapter once.

- **Current**: `_build/<builder>/.source-files.json` holds the SHA-256 of every file the build
  reads (see `source_files`), written after a successful build. If they all match, nothing is
  run.
- **Otherwise** it runs Jupyter Book 1 with warnings as errors (`-W -n --keep-going`),
  incrementally when Sphinx itself sees everything that changed: only pages (and what they
  include) under book/, or backprop_lib (book/_ext/libhash.py puts its hash in the config, so
  every page is re-read and re-executed). Sphinx re-reads only the changed pages then, and
  that needs a successful last build of either builder (`_build/.book-ok` records its
  sources; the builders share Sphinx's environment in `_build/.doctrees`). Any other change
  (the stylesheet or script in book/_static, an extension in book/_ext, the config, the
  requirements, the wheel's pyproject.toml and README) passes `--all`: an incremental Sphinx 7.4 build with no page out of
  date stops before it copies static files or writes anything, so the site would keep the old
  ones. So does a missing marker (no build yet, or the last one failed): every page is
  re-read, and a build after a failed one fails again instead of passing on stale pages. The
  marker and the record are removed before a build and written only after it succeeded.
- **The in-browser chapters' settings** (`BOOK_PYODIDE`, `BOOK_PYODIDE_SHA256`, `BOOK_LITE_CACHE`)
  are part of the record, as `$NAME` entries: a change builds again, incrementally (the lite
  extension itself re-reads every page when its site comes or goes). A build that left the
  in-browser site off (`_build/.lite-status.json`, written by book/_ext/lite.py, which says
  why) is not current for `make book`, which tries again (nothing may have been reachable);
  the tests take it as it is.
- A lock on `_build/.build.lock` makes parallel callers (pytest's workers, a `make book` in
  another shell) wait for one build instead of running two.

Anything that becomes part of `_build/html` belongs in the Sphinx build (as the JupyterLite
site does: book/_ext/lite.py) or in `build()` below, and the files it reads in `source_files`,
so that "current" keeps meaning "everything the tests check is up to date".
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "_build"
OK = BUILD / ".book-ok"
LOCK = BUILD / ".build.lock"
BUILDERS = ("html", "singlehtml")
# the settings of the in-browser chapters (book/_ext/lite_assets.py), recorded with the sources
SETTINGS = ("BOOK_PYODIDE", "BOOK_PYODIDE_SHA256", "BOOK_LITE_CACHE")
LITE_STATUS = ".lite-status.json"  # in BUILD, written by book/_ext/lite.py
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")


def source_files(root: Path | None = None) -> dict[str, str]:
    """SHA-256 of everything a build reads, by path relative to the root.

    The config and toc, every file under book/ (pages, bibliography, stylesheet, extensions; not
    the git-ignored .ipynb copies or caches), backprop_lib/ (the chapters import it),
    requirements.txt (the versions that build it), pyproject.toml and README.md (the inputs of
    the backprop_lib wheel the site offers, book/_ext/libwheel.py) and this script (the command
    it runs). A missing file has the value "(missing)". The in-browser chapters' settings are
    entries ``$NAME`` with their values ("(unset)" when unset).
    """
    root = ROOT if root is None else root
    files = [root / "_config.yml", root / "_toc.yml", root / "requirements.txt", root / "pyproject.toml",
             root / "README.md", root / "scripts" / Path(__file__).name]
    files += sorted(p for p in (root / "book").rglob("*") if p.is_file() and p.suffix != ".ipynb"
                    and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(root).parts))
    files += sorted((root / "backprop_lib").rglob("*.py"))
    record = {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() if path.exists()
              else "(missing)" for path in files}
    record.update({f"${name}": os.environ.get(name) or "(unset)" for name in SETTINGS})
    return record


# What Sphinx notices by itself in an incremental build: a page or a file a page includes
# (figures, the bibliography), and backprop_lib through the config (book/_ext/libhash.py).
PAGE_SUFFIXES = {".md", ".bib", ".png", ".jpg", ".jpeg", ".svg", ".gif"}


def sphinx_sees(path: str) -> bool:
    """True for a source whose change an incremental Sphinx build picks up by itself."""
    if path.startswith("$"):  # a setting of the in-browser chapters: book/_ext/lite.py re-reads what it must
        return True
    parts = path.split("/")
    if parts[0] == "backprop_lib":
        return True
    return (parts[0] == "book" and len(parts) > 1 and parts[1] not in ("_static", "_ext")
            and Path(path).suffix in PAGE_SUFFIXES)


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """Paths added, removed or changed between two :func:`source_files` records."""
    return sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))


def record(builder: str) -> Path:
    return BUILD / builder / ".source-files.json"


def read_record(path: Path) -> dict[str, str] | None:
    """A :func:`source_files` record written by :func:`write_record`, or None if absent or unreadable."""
    try:
        files = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return files if isinstance(files, dict) else None


def write_record(path: Path, files: dict[str, str]) -> None:
    path.write_text(json.dumps(files, indent=0, sort_keys=True) + "\n")


def sphinx_sees_all(old: dict[str, str] | None, new: dict[str, str]) -> bool:
    """True when there is a record ``old`` and Sphinx picks up every change from it to ``new`` by itself."""
    return old is not None and all(sphinx_sees(p) for p in changed(old, new))


def recorded(builder: str) -> dict[str, str] | None:
    """The sources of ``_build/<builder>``'s last successful build, or None if there is none."""
    page = BUILD / builder / ("index.html" if builder == "html" else "book/intro.html")
    return read_record(record(builder)) if page.exists() else None


def is_current(builder: str, files: dict[str, str] | None = None) -> bool:
    """True when ``_build/<builder>`` was built successfully from the sources as they are now
    (``files``: their :func:`source_files`, if already computed)."""
    return recorded(builder) == (files if files is not None else source_files())


def incremental(builder: str, before: dict[str, str] | None, wanted: dict[str, str]) -> bool:
    """Whether a build of ``builder`` from the sources ``wanted`` may skip ``--all``.

    Sphinx's environment (shared by both builders) must come from a successful build, ``OK``
    records its sources, and Sphinx must see every change since by itself. The HTML builder
    writes only pages out of date, so the same holds against its own last build (``before``);
    the single-page builder writes everything, static files included, every time.
    """
    if not sphinx_sees_all(read_record(OK), wanted):
        return False
    return builder == "singlehtml" or sphinx_sees_all(before, wanted)


def lite_off() -> str | None:
    """Why the last HTML build left the in-browser chapters off, or None (on, or no record)."""
    try:
        status = json.loads((BUILD / LITE_STATUS).read_text())
    except (OSError, ValueError):
        return None
    return None if status.get("on", True) else str(status.get("reason", "unknown"))


def build(builder: str = "html", *, capture: bool = False, retry_lite_off: bool = False) -> subprocess.CompletedProcess | None:
    """Build ``_build/<builder>`` unless it is current; return the finished build, or None if none was needed.

    With ``capture`` the build's output is returned instead of printed (the tests show it on failure).
    With ``retry_lite_off`` (`make book`) an HTML build that left the in-browser chapters off is not current.
    """
    if builder not in BUILDERS:
        raise ValueError(f"builder: expected one of {BUILDERS}, got {builder!r}")
    BUILD.mkdir(exist_ok=True)
    with open(LOCK, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        wanted = source_files()
        before = recorded(builder)
        if before == wanted and not (retry_lite_off and builder == "html" and lite_off() is not None):
            return None
        fresh = [] if incremental(builder, before, wanted) else ["--all"]
        OK.unlink(missing_ok=True)
        record(builder).unlink(missing_ok=True)
        cmd = [str(JUPYTER_BOOK), "build", str(ROOT), *fresh, "-W", "-n", "--keep-going", "--builder", builder]
        # no MPLBACKEND=Agg here: the kernels must use the inline backend, or plt.show() draws nothing
        env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
        done = subprocess.run(cmd, cwd=ROOT, env=env, text=True, capture_output=capture, timeout=3600)
        if done.returncode == 0:
            write_record(OK, wanted)
            write_record(record(builder), wanted)
        return done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("builder", nargs="?", default="html", choices=BUILDERS)
    args = parser.parse_args()
    done = build(args.builder, retry_lite_off=True)
    if done is None:
        print(f"_build/{args.builder} is current (built from these sources): nothing to do")
        return 0
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
