"""The backprop_lib wheel that the book's site offers beside its notebooks, built once per library state.

``library_wheel(root, cache)`` returns ``<cache>/<key>/backprop_lib-<version>-py3-none-any.whl``,
building it only when no wheel exists for ``key``: a hash of what goes into the wheel (every
file of ``backprop_lib/``, ``pyproject.toml``, the README that becomes its description) and of
the build backend's version. An unchanged library therefore never rebuilds it.

The build is ``pip wheel --no-deps --no-build-isolation`` with the setuptools pinned in
requirements.txt (offline, no download), from a copy of those files in a temporary folder (no
``build/`` or ``*.egg-info`` left in the clone), with ``SOURCE_DATE_EPOCH`` fixed so that the same
sources give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from importlib.metadata import version as installed_version
from pathlib import Path

# the files of the clone that make the wheel
INPUTS = ("pyproject.toml", "README.md")
PACKAGE = "backprop_lib"
# 1980-01-01, the earliest date a zip file can hold
SOURCE_DATE_EPOCH = "315532800"


def project_version(root: Path) -> str:
    """The version declared in pyproject.toml."""
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def wheel_name(root: Path) -> str:
    """The file name of the wheel (pure Python, any platform)."""
    return f"{PACKAGE}-{project_version(root)}-py3-none-any.whl"


def wheel_key(root: Path) -> str:
    """SHA-256 (first 16 hex digits) over the wheel's inputs and the build backend's version."""
    digest = hashlib.sha256()
    files = [root / name for name in INPUTS]
    files += sorted(p for p in (root / PACKAGE).rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    digest.update(f"setuptools {installed_version('setuptools')}".encode())
    return digest.hexdigest()[:16]


def library_wheel(root: Path, cache: Path) -> Path:
    """The path of the wheel for the library as it is in ``root``; built if not cached yet."""
    target = cache / wheel_key(root) / wheel_name(root)
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory(prefix="backprop-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in INPUTS:
            shutil.copy2(root / name, src / name)
        shutil.copytree(root / PACKAGE, src / PACKAGE, ignore=shutil.ignore_patterns("__pycache__"))
        out = Path(tmp) / "dist"
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PIP_NO_INPUT": "1"}
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
               "--quiet", "--wheel-dir", str(out), str(src)]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
        built = out / target.name
        if result.returncode != 0 or not built.is_file():
            raise RuntimeError(f"building the {PACKAGE} wheel failed ({' '.join(cmd)}):\n{result.stdout}\n{result.stderr}")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        shutil.copy2(built, partial)
        partial.replace(target)  # atomic: a concurrent build never sees half a wheel
    return target
