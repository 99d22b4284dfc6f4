"""Sphinx extension: MathJax 4, served by the book's own site, breaking long display equations into lines.

MathJax 4 breaks a display equation that is wider than its column at a relation or an operator
(``output.displayOverflow: "linebreak"``, set in _config.yml's ``mathjax3_config``), and an inline
formula where the line ends; MathJax 3 (sphinx-mathjax-offline, which this replaces) could only
let it stick out. What cannot break (a matrix) is scaled down a little or scrolls in its box
(book/_static/book.js and book.css).

**What comes from outside the clone**: two npm packages, pinned by version and by the registry's
integrity (the SHA-512 of the tarball, ``npm view <package>@<version> dist.integrity``), fetched
once with ``npm pack`` into a cache outside the clone (``$BOOK_MATHJAX_CACHE``, else
``$XDG_CACHE_HOME/backprop-derived-checked/mathjax``, else ``~/.cache/...``) and never committed:

- ``mathjax`` (:data:`MATHJAX`): the loader and the components a page loads one by one
  (:data:`COMPONENTS`: the core, the TeX input with the extensions it loads on demand, the CHTML
  output and the assistive MathML a screen reader reads), not the combined bundles, whose menu
  and speech code (a 1 MB bundle, and a speech worker with its rule files) no page here uses;
- ``@mathjax/mathjax-newcm-font`` (:data:`FONT`): the default font's CHTML data, its woff2 files
  and the ranges MathJax loads on demand (the font package's SVG data and module copies are
  not served).

Every build checks both tarballs against their pinned integrity (a mismatch fails the build,
naming the file) and copies from them exactly :func:`served_files`, no source map, into
``<html>/_static/mathjax/``, removing anything else there (a site built before keeps no stale
bundle). Without ``npm`` and nothing cached, the build stops and says so: a page without
MathJax would show raw TeX.

The pages load ``_static/mathjax/startup.js`` (``mathjax_path``); this extension adds to
``mathjax3_config`` the components to load and the fonts' folder, and to each page with math a
one-line script (:data:`READY_JS`): the article's content stays hidden until it is typeset (no
layout shift), and MathJax's ``startup.ready``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging

logger = logging.getLogger(__name__)

# (npm name, version, the registry's dist.integrity of its tarball)
MATHJAX = ("mathjax", "4.1.3",
           "sha512-BN/8Pkgn7G1pIDYJqd9md+JHsE/jydSYbyOZnSdSA0WziuVO8mRxdYiWFumkVVly/8U+hm9DpIIoWuvySverzw==")
FONT = ("@mathjax/mathjax-newcm-font", "4.1.3",
        "sha512-gzAB3dFHilHX1l5x2xUqRL+1jDQt3Fyza1DkEMVXWC4E8SvsGdlgEza47HYi2WhVcgfkvf4zgUGzuhbq3Pjlew==")

STATIC = "mathjax"  # the folder in _static
FONTS = "fonts"  # the fonts' folder in it: MathJax's [fonts] path, whose mathjax-newcm-font/ is the font package
# What a page loads (MathJax's loader resolves each to <name>.js under _static/mathjax/)
COMPONENTS = ("core", "input/tex", "output/chtml", "a11y/assistive-mml")
# The files of the mathjax package served: the loader, the components, and the TeX extensions
# that input/tex loads when a page uses one of their macros (input/tex/extensions/*.js).
MATHJAX_FILES = ("startup.js",) + tuple(f"{c}.js" for c in COMPONENTS)
MATHJAX_FOLDERS = ("input/tex/extensions/",)
# The files of the font package served: its CHTML data (loaded by output/chtml), the woff2 files and
# the dynamic ranges it loads for the characters a page uses.
FONT_FILES = ("chtml.js",)
FONT_FOLDERS = ("chtml/woff2/", "chtml/dynamic/")

# A one-line script on each page with math, before MathJax's:
# - The article's content is hidden (book.css: html.mathjax-pending) until MathJax has typeset it:
#   raw TeX typeset after the first paint changes the height of every paragraph with a formula, and
#   the text below moves (a cumulative layout shift of 0.3 on chapter 1). If MathJax has not
#   finished in PENDING_MS (a file that cannot load), the content shows anyway.
# - a11y/assistive-mml, when it loads, sets an option of the MathJax menu (menuOptions), which no
#   page loads: MathJax would warn "Invalid option" on every page. It is dropped before the page's
#   MathJax document is made from the options.
PENDING_MS = 5000
READY_JS = (
    "(() => { const root = document.documentElement, shown = () => root.classList.remove('mathjax-pending');"
    f" root.classList.add('mathjax-pending'); setTimeout(shown, {PENDING_MS});"
    " window.MathJax.startup = Object.assign(window.MathJax.startup || {}, {ready() {"
    " delete MathJax.config.options.menuOptions; MathJax.startup.defaultReady();"
    " MathJax.startup.promise.then(shown, shown); }}); })();"
)


class AssetError(ExtensionError):
    """A tarball that is not the pinned one, or one that cannot be had."""


def cache_dir() -> Path:
    """Where the tarballs are kept (outside the clone)."""
    if os.environ.get("BOOK_MATHJAX_CACHE"):
        return Path(os.environ["BOOK_MATHJAX_CACHE"])
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "backprop-derived-checked" / "mathjax"


def tarball_name(package: tuple[str, str, str]) -> str:
    """The file ``npm pack`` writes: ``@scope/name`` becomes ``scope-name``."""
    name, version, _ = package
    return f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def check_integrity(path: Path, package: tuple[str, str, str]) -> None:
    name, version, integrity = package
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, path.read_bytes()).digest()).decode()
    if actual != expected:
        raise AssetError(f"{path}: {algorithm} {actual} is not the pinned integrity of {name}@{version} ({expected})")


def tarball(package: tuple[str, str, str], cache: Path | None = None) -> Path:
    """The package's tarball from the cache, else from ``npm pack``; checked against its integrity."""
    cache = cache or cache_dir()
    name, version, _ = package
    target = cache / tarball_name(package)
    if not target.is_file():
        if shutil.which("npm") is None:
            raise AssetError(f"npm is not on PATH: it fetches {name}@{version} (MathJax, without which "
                             f"the pages show raw TeX) into {cache}")
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mathjax-npm-", dir=cache) as tmp:
            env = {**os.environ, "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false",
                   "NPM_CONFIG_AUDIT": "false"}
            done = subprocess.run(["npm", "pack", f"{name}@{version}", "--pack-destination", tmp, "--silent"],
                                  capture_output=True, text=True, env=env, timeout=600)
            packed = Path(tmp) / tarball_name(package)
            if done.returncode != 0 or not packed.is_file():
                last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise AssetError(f"npm pack {name}@{version} failed: {last[0][:300]}")
            check_integrity(packed, package)
            packed.replace(target)
    check_integrity(target, package)
    return target


def _wanted(relative: str, files: tuple[str, ...], folders: tuple[str, ...]) -> bool:
    return (relative in files or relative.startswith(folders)) and not relative.endswith(".map")


def served_files(cache: Path | None = None) -> dict[str, bytes]:
    """Every file served under ``_static/mathjax/`` (its path there -> its bytes), read from the
    verified tarballs."""
    out: dict[str, bytes] = {}
    for package, prefix, files, folders in ((MATHJAX, "", MATHJAX_FILES, MATHJAX_FOLDERS),
                                            (FONT, f"{FONTS}/mathjax-newcm-font/", FONT_FILES, FONT_FOLDERS)):
        with tarfile.open(tarball(package, cache)) as tar:
            for member in tar:
                relative = member.name.removeprefix("package/")
                if member.isfile() and _wanted(relative, files, folders):
                    out[prefix + relative] = tar.extractfile(member).read()
    missing = [f for f in MATHJAX_FILES if f not in out] + [f"{FONTS}/mathjax-newcm-font/{f}" for f in FONT_FILES
                                                              if f"{FONTS}/mathjax-newcm-font/{f}" not in out]
    if missing:
        raise AssetError(f"the pinned MathJax packages lack {', '.join(missing)}")
    return out


def install(outdir: Path, files: dict[str, bytes]) -> None:
    """Make ``outdir/_static/mathjax`` hold exactly ``files`` (rewriting only what differs)."""
    root = outdir / "_static" / STATIC
    for path in sorted(root.rglob("*"), reverse=True) if root.is_dir() else []:
        relative = path.relative_to(root).as_posix()
        if path.is_file() and relative not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    for relative, data in files.items():
        target = root / relative
        if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _config_inited(app: Sphinx, config: Config) -> None:
    config.mathjax_path = f"{STATIC}/startup.js"
    settings = dict(config.mathjax3_config or {})
    loader = dict(settings.get("loader") or {})
    loader["load"] = list(dict.fromkeys([*loader.get("load", []), *COMPONENTS]))
    loader["paths"] = {**(loader.get("paths") or {}), "fonts": f"[mathjax]/{FONTS}"}
    settings["loader"] = loader
    config.mathjax3_config = settings


def _builder_inited(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    # read (and verified) when the build starts: a package that cannot be had stops it before any page
    app.builder._mathjax4_files = served_files()  # noqa: SLF001


def _page_context(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if app.builder.format != "html" or app.builder.math_renderer_name != "mathjax":
        return
    if any(STATIC + "/startup.js" in str(getattr(s, "filename", "") or "") for s in context.get("script_files", [])):
        app.builder.add_js_file("", body=READY_JS)


def _build_finished(app: Sphinx, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        install(Path(app.outdir), app.builder._mathjax4_files)  # noqa: SLF001


def setup(app: Sphinx) -> dict:
    app.connect("config-inited", _config_inited, priority=600)  # after myst-parser adds its processHtmlClass
    app.connect("builder-inited", _builder_inited)
    app.connect("html-page-context", _page_context, priority=600)  # after sphinx.ext.mathjax (500) adds the script
    app.connect("build-finished", _build_finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
