"""The chapters in the reader's browser: the JupyterLite site that `make book` builds into lite/.

What is built (no browser): the site's configuration (local Pyodide, PyPI off, the two lab
extensions of the browser), every Pyodide file the official one by its SHA-256 in the npm
package's pyodide-lock.json (and a file that is not fails the build), the wheels piplite serves,
the notebooks (the downloads' content, the set-up cell first, links that leave the app), the
launcher on each chapter page, and no Google Fonts anywhere.

In headless Debian Chromium, with the built site served on 127.0.0.1 and every other request
aborted and recorded: chapters 1 and 6 are opened from their page's launcher and run to the
end; no cell raises, a check prints its line, a figure is drawn, chapter 1's slider redraws
its widget; no request is blocked and the console has no error. The other chapters run to the
end in tests/test_lite_chapters.py; the prefix test in tests/test_publish.py; where Pyodide comes
from (the official release, npm and the carrier, none) in tests/test_lite_sources.py.

A build without the in-browser site (no Pyodide source could be had) skips the tests of the
site with the build's reason (``lite_site`` in tests/conftest.py; under CI they fail instead),
and checks that no page has a launcher.
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import nbformat
import pytest
from bookbuild import CHAPTERS, ROOT, build_if_changed
from bs4 import BeautifulSoup
from helpers import run_to_the_end

from bookext import lite, lite_assets
from bookscripts import lite_browser as lb

CHECK_LINE = re.compile(r"central diff\. \d\.\de[+-]\d\d")  # what check_step prints for a step it accepts


@pytest.fixture(scope="module")
def site(lite_site: Path) -> Path:
    return lite_site


# The built site -----------------------------------------------------------------------------


def test_the_site_is_offline_and_uses_the_browsers_extensions(site: Path):
    lite.check_site_config(site)  # raises if PyPI is on, Pyodide remote, or the extensions are others
    config = json.loads((site / "jupyter-lite.json").read_text())["jupyter-config-data"]
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert kernel["loadPyodideOptions"]["packages"] == list(lite_assets.KERNEL_PACKAGES)
    assert (site / kernel["pyodideUrl"]).is_file()
    for url in kernel["pipliteUrls"]:
        assert (site / url.split("?")[0]).is_file(), url
    manager = json.loads((site / "extensions/@jupyter-widgets/jupyterlab-manager/package.json").read_text())
    with zipfile.ZipFile(lite_assets.jupyterlab_widgets_wheel()) as whl:
        wanted = json.loads(next(whl.read(n) for n in whl.namelist() if n.endswith("jupyterlab-manager/package.json")))
    assert manager["version"] == wanted["version"], "the widget manager is not jupyterlab_widgets 3.0.13's"
    assert sorted(p.name for p in (site / "extensions").iterdir()) == ["@jupyter-widgets", "@jupyterlite"]


def test_every_pyodide_file_is_the_official_one(site: Path):
    folder = site / "static" / "pyodide"
    official = lite_assets.official_lock()  # the cached copy, checked against the pinned LOCK_SHA256
    assert lite_assets.lock_digest(official) == lite_assets.LOCK_SHA256
    served = json.loads((folder / "pyodide-lock.json").read_text())
    assert served["info"] == official["info"] and served["info"]["version"] == lite_assets.PYODIDE_VERSION
    assert set(served["packages"]) == set(lite_assets.package_closure(official))
    for name, entry in served["packages"].items():
        assert entry == official["packages"][name], f"{name}: the served lock differs from the official one"
        assert lite_assets.sha256(folder / entry["file_name"]) == entry["sha256"], entry["file_name"]
    listed = {e["file_name"] for e in served["packages"].values()} | set(lite_assets.RUNTIME_FILES) | {"pyodide-lock.json"}
    assert {p.name for p in folder.iterdir()} == listed, "files served that the lock does not account for"
    for name in lite_assets.RUNTIME_FILES:
        assert lite_assets.sha256(folder / name) == lite_assets.RUNTIME_SHA256[name], name
    assert "numpy" in served["packages"]  # what the "check your derivation" form loads from here too


def test_a_file_that_does_not_match_the_lock_is_refused(tmp_path: Path):
    good, bad = b"the official bytes", b"other bytes"
    lock = {"info": {"version": "x"}, "packages": {
        "a": {"file_name": "a.whl", "sha256": lite_assets.hashlib.sha256(good).hexdigest(), "depends": []},
        "b": {"file_name": "b.whl", "sha256": lite_assets.hashlib.sha256(good).hexdigest(), "depends": ["a"]}}}
    (tmp_path / "a.whl").write_bytes(good)
    (tmp_path / "b.whl").write_bytes(bad)
    lite_assets.verify_package_files(tmp_path, lock, ["a"])
    with pytest.raises(lite_assets.AssetError, match=r"b\.whl: sha256 .* the lock says"):
        lite_assets.verify_package_files(tmp_path, lock, ["a", "b"])
    (tmp_path / "b.whl").unlink()
    with pytest.raises(lite_assets.AssetError, match=r"b\.whl: missing"):
        lite_assets.verify_package_files(tmp_path, lock, lite_assets.package_closure(lock, ("b",)))


def test_a_tarball_that_is_not_the_pinned_one_is_refused(tmp_path: Path):
    fake = tmp_path / lite_assets.PYODIDE_TARBALL
    fake.write_bytes(b"not pyodide")
    with pytest.raises(lite_assets.AssetError, match="is not the pinned integrity"):
        lite_assets._check_integrity(fake)


def test_piplite_serves_the_books_wheel_and_the_widget_packages(site: Path, built_book: Path):
    index = json.loads((site / "pypi" / "all.json").read_text())
    versions = {name: sorted(entry["releases"]) for name, entry in index.items()}
    assert versions == {"backprop-lib": ["0.1.0"], "comm": ["0.2.2"], "ipywidgets": ["8.1.5"],
                        "jupyterlab-widgets": ["3.0.13"], "lark": ["1.3.1"]}
    download = next((built_book / "_sources" / "book").glob("backprop_lib-*.whl"))
    assert (site / "pypi" / download.name).read_bytes() == download.read_bytes()


def test_every_requirement_of_the_books_wheel_is_served(site: Path):
    """piplite installs backprop_lib[book] with PyPI off: each requirement must be a wheel piplite serves
    or a package of the served Pyodide lock (a new dependency of the library would fail the set-up cell)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    wheel = next((site / "pypi").glob("backprop_lib-*.whl"))
    with zipfile.ZipFile(wheel) as whl:
        meta = whl.read(next(n for n in whl.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    wanted = [Requirement(line.split(":", 1)[1].strip()) for line in meta.splitlines() if line.startswith("Requires-Dist:")]
    wanted = [r for r in wanted if r.marker is None or r.marker.evaluate({"extra": "book"})]
    served = {canonicalize_name(n) for n in json.loads((site / "pypi" / "all.json").read_text())}
    served |= {canonicalize_name(n) for n in json.loads((site / "static" / "pyodide" / "pyodide-lock.json").read_text())["packages"]}
    missing = sorted(r.name for r in wanted if canonicalize_name(r.name) not in served)
    assert not missing, f"backprop_lib[book] requires what the in-browser site does not serve: {missing}"


def lite_notebook(site: Path, name: str) -> nbformat.NotebookNode:
    return nbformat.read(site / "files" / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_notebook_is_the_download_with_a_browser_kernel(site: Path, built_book: Path, name: str):
    nb = lite_notebook(site, Path(name).name)
    download = nbformat.read(built_book / "_sources" / "book" / f"{Path(name).name}.ipynb", as_version=4)
    assert nb.metadata.kernelspec == lite.KERNELSPEC
    assert [c.source for c in nb.cells if c.cell_type == "code"] == [c.source for c in download.cells if c.cell_type == "code"]
    setup = nb.cells[0]
    assert setup.cell_type == "code" and "remove-cell" in setup.metadata.tags
    assert 'sys.platform == "emscripten"' in setup.source and "await piplite.install(" in setup.source
    assert "backprop_lib" in setup.source and "ipywidgets" in setup.source
    # JupyterLab opens a relative link as a file of its own drive: every link leaves from the root
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for target in re.findall(r"\]\(([^)\s]+)", cell.source):
                assert target.startswith(("/", "http://", "https://", "#", "attachment:")), f"{name}: link {target}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_each_chapter_page_has_a_launcher(site: Path, built_book: Path, name: str):
    page = built_book / f"{name}.html"
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    links = soup.select("main a.lite-launch-link")
    assert len(links) == 1 and "Run in your browser" in links[0].get_text()
    url = urlparse(urljoin(f"http://site/{name}.html", links[0]["href"]))
    assert url.path == f"/{lite.SITE}/notebooks/index.html" and (built_book / url.path.lstrip("/")).is_file()
    (notebook,) = parse_qs(url.query)["path"]
    assert (site / "files" / notebook).is_file()
    contents = json.loads((site / "api" / "contents" / "all.json").read_text())
    assert notebook in {entry["path"] for entry in contents["content"]}
    # the launcher stands right under the title
    title = soup.select_one("main section h1")
    assert title.find_next("p") is links[0].parent


def test_a_launcher_on_each_chapter_page_exactly_when_the_site_is_built(built_book: Path):
    """With the site: one launcher per chapter page. Without it (the build said "in-browser chapters
    off"): no launcher on any page and no lite/ folder."""
    on = build_if_changed.lite_off() is None
    for name in CHAPTERS:
        soup = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
        assert len(soup.select("a.lite-launch-link")) == (1 if on else 0), name
    assert (built_book / lite.SITE / "jupyter-lite.json").is_file() == on


def test_the_launcher_link_is_relative():
    assert lite.launcher_href("book/ch1_conv_mse", "book/ch1_conv_mse.html") == "../lite/notebooks/index.html?path=ch1_conv_mse.ipynb"
    assert lite.launcher_href("intro", "intro.html") == "lite/notebooks/index.html?path=intro.ipynb"


def test_no_google_fonts_anywhere(built_book: Path):
    """jupyterlite-sphinx (not used here) adds a Google Fonts stylesheet to every page; nothing may."""
    offenders = [str(p.relative_to(built_book)) for p in built_book.rglob("*")
                 if p.suffix in (".html", ".css", ".json") and re.search(r"fonts\.(googleapis|gstatic)\.com",
                                                                        p.read_text(encoding="utf-8", errors="replace"))]
    assert not offenders, offenders


# In the browser -----------------------------------------------------------------------------


def open_from_the_launcher(page, context, book_server: str, name: str) -> tuple[list[str], list[str]]:  # noqa: ANN001
    """The chapter's page, then its launcher: the notebook open and its kernel idle."""
    blocked = lb.block_other_hosts(context)
    console = lb.record_console_errors(page)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{book_server}/{name}.html", wait_until="load")
    page.locator("a.lite-launch-link").click()
    page.wait_for_url(re.compile(r"/lite/notebooks/index\.html\?path="))
    lb.wait_kernel_idle(page)
    assert page.evaluate(f"{lb.NB}.context.path") == f"{Path(name).name}.ipynb"
    return blocked, console


def test_chapter_1_runs_in_the_browser_and_its_slider_redraws(site: Path, page, context, book_server: str):
    blocked, console = open_from_the_launcher(page, context, book_server, "book/ch1_conv_mse")
    cells = run_to_the_end(page)
    assert CHECK_LINE.search(lb.output_text(cells)), "no check showed its line"
    assert lb.images(cells) and len(lb.images(cells)[0]) > 2000, "no figure drawn"
    # the first import of matplotlib builds its font cache: the set-up cell keeps that note from the reader
    stderr = [o.get("text", "") for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not any("font cache" in "".join(t) for t in stderr), stderr

    # the widget: scroll to it, drag its first slider, the picture and the readout change
    index = next(i for i, c in enumerate(cells) for o in c.get("outputs", [])
                 if "application/vnd.jupyter.widget-view+json" in o.get("data", {}))
    page.evaluate(f"{lb.NB}.content.scrollToItem({index})")
    widget = page.locator(".jp-NotebookPanel .widget-interact").first
    widget.scroll_into_view_if_needed()
    widget.locator("img").first.wait_for(timeout=60_000)
    picture = widget.locator("img").first.get_attribute("src")
    readout = widget.locator(".widget-readout").first.inner_text()
    handle = widget.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()  # drag it 40 px to the right, as a reader does
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2, steps=5)
    page.mouse.up()
    page.wait_for_function("([el, before]) => { const img = el.querySelector('img'); return img && img.src !== before; }",
                           arg=[widget.element_handle(), picture], timeout=60_000)
    assert widget.locator(".widget-readout").first.inner_text() != readout
    page.wait_for_timeout(500)  # the drag's last value: the kernel redraws once more, then rests
    lb.wait_kernel_idle(page)
    assert widget.locator("img").first.get_attribute("src") != picture
    screenshots = ROOT / "_build" / "screenshots"
    if screenshots.is_dir():
        page.screenshot(path=str(screenshots / "lite-ch1.png"))
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not console, f"console errors: {console}"


def test_chapter_6_runs_in_the_browser_with_check_your_own_derivation(site: Path, page, context, book_server: str):
    blocked, console = open_from_the_launcher(page, context, book_server, "book/ch6_autodiff")
    cells = run_to_the_end(page)
    assert CHECK_LINE.search(lb.output_text(cells)), "no check showed its line"
    assert lb.images(cells), "no figure drawn"
    # "Check your own derivation": check_formula (lark, the LaTeX grammar) ran in the browser and
    # judged every slip the chapters' students made
    slips = next(c for c in cells if c["cell_type"] == "code" and "typed = [" in "".join(c["source"]))
    shown = json.dumps(slips["outputs"])
    for slip in ("1, sign", "4, no batch sum", "5, one example"):
        assert slip in shown, f"the slips table does not show {slip!r}"
    assert not blocked, f"requests to other hosts: {blocked}"
    assert not console, f"console errors: {console}"


@pytest.mark.parametrize("name", CHAPTERS)
def test_the_set_up_cell_does_nothing_outside_the_browser(name: str):
    """The same first cell runs under nbval and in `make lab` (CPython): there it must do nothing."""
    import ast
    import asyncio
    import concurrent.futures
    import inspect

    import jupytext

    first = jupytext.read(ROOT / f"{name}.md", fmt="md:myst").cells[0]
    assert first.cell_type == "code" and "remove-cell" in first.metadata["tags"]
    namespace: dict = {}
    result = eval(compile(first.source, "set-up cell", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)  # noqa: S307
    if inspect.iscoroutine(result):
        # in a thread of its own: after the browser tests, Playwright's event loop runs in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, result).result()
    assert "piplite" not in namespace and "piplite" not in sys.modules
