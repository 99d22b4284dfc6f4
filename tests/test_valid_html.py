"""The built pages are valid HTML: the Nu HTML Checker (vnu-jar, the W3C's validator) reports no error.

vnu-jar comes from npm (``npm pack``, pinned by version and the registry's SHA-512 integrity of the
tarball, :data:`VNU`) into a cache outside the clone (``$BOOK_VNU_CACHE``, else
``$XDG_CACHE_HOME/backprop-derived-checked/vnu``), never committed, and runs with Java
(``default-jre-headless`` in .ci/debian-packages). Every page of the site is checked except the
in-browser notebooks' own site (``lite/``, JupyterLite's) and the theme's static files. Warnings
and infos are not errors and are not counted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

# (npm name, version, the registry's dist.integrity: `npm view vnu-jar@26.9.27 dist.integrity`)
VNU = ("vnu-jar", "26.9.27",
       "sha512-TkQd5DFfOaWC9ebtvozTsrH2Vaod3jYg+vrOeREzIXxBexLz9+rS2DNtjn7+RPUiZhgli0SghgBX6RJRNea0KA==")
JAR = "package/build/dist/vnu.jar"


def cache_dir() -> Path:
    if os.environ.get("BOOK_VNU_CACHE"):
        return Path(os.environ["BOOK_VNU_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "backprop-derived-checked" / "vnu"


def verified_tarball(cache: Path) -> Path:
    """The vnu-jar tarball from the cache, else from `npm pack`; checked against its pinned integrity."""
    name, version, integrity = VNU
    target = cache / f"{name}-{version}.tgz"
    if not target.is_file():
        if shutil.which("npm") is None:
            pytest.fail(f"npm is required to fetch {name}@{version} (the Nu HTML Checker)")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            done = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                                  capture_output=True, text=True, timeout=600)
            packed = Path(tmp) / target.name
            assert done.returncode == 0 and packed.is_file(), f"npm pack {name}@{version} failed: {done.stderr[-500:]}"
            packed.replace(target)
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, target.read_bytes()).digest()).decode()
    assert actual == expected, f"{target}: {algorithm} {actual}, not the pinned integrity of {name}@{version}"
    return target


@pytest.fixture(scope="module")
def vnu_jar(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """vnu.jar, read from the verified tarball."""
    if shutil.which("java") is None:
        pytest.fail("Java is required for the Nu HTML Checker: apt-get install default-jre-headless")
    jar = tmp_path_factory.mktemp("vnu") / "vnu.jar"
    with tarfile.open(verified_tarball(cache_dir())) as tar:
        member = tar.extractfile(JAR)
        assert member is not None, f"{VNU[0]}@{VNU[1]} has no {JAR}"
        jar.write_bytes(member.read())
    return jar


def site_pages(site: Path) -> list[Path]:
    """Every HTML page of the site outside lite/ and _static/."""
    return sorted(p for p in site.rglob("*.html") if p.relative_to(site).parts[0] not in ("lite", "_static"))


def test_every_page_is_valid_html(built_book: Path, vnu_jar: Path):
    pages = site_pages(built_book)
    assert {"index.html", "404.html", "search.html", "book/intro.html"} <= {p.relative_to(built_book).as_posix() for p in pages}
    done = subprocess.run(["java", "-jar", str(vnu_jar), "--errors-only", "--format", "json", *map(str, pages)],
                          capture_output=True, text=True, timeout=600)
    messages = json.loads(done.stderr or done.stdout or '{"messages": []}')["messages"]
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    shown = [f"{m.get('url', '?').split(str(built_book.resolve()))[-1]}:{m.get('lastLine', '?')}: {m.get('message')}"
             for m in errors[:20]]
    assert not errors, f"{len(errors)} errors from the Nu HTML Checker:\n" + "\n".join(shown)
