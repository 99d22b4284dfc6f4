"""Sphinx extension: key the jupyter-cache folder on a hash of backprop_lib/.

jupyter-cache decides whether to re-execute a notebook from a hash of its code cells only,
so after a change in backprop_lib it would keep serving outputs computed by the old code.
Putting the hash of every file in backprop_lib/ into the cache path makes any change to the
library start from an empty cache: every chapter re-executes. Unchanged library, unchanged
cells: nothing re-executes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config

ROOT = Path(__file__).resolve().parents[2]


def library_hash(root: Path = ROOT) -> str:
    """SHA-256 (first 16 hex digits) over the paths and bytes of backprop_lib/**/*.py."""
    digest = hashlib.sha256()
    for path in sorted((root / "backprop_lib").rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _set_cache_path(app: Sphinx, config: Config) -> None:
    # Beside the HTML output (_build/html -> _build/.jupyter_cache/<hash>), so that builds
    # with another --path-output keep caches of their own.
    config.nb_execution_cache_path = str(Path(app.outdir).parent / ".jupyter_cache" / library_hash())


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _set_cache_path, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
