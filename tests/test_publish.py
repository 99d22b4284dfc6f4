"""Published: the deploy workflow calls the Makefile, the site works under any path (its pages, and
the in-browser notebooks that a chapter's launcher opens), its 404 page leads back to the
contents, its pages describe themselves to link previews, and axe finds no serious or critical
accessibility violation on any page, at 1280 px and at 390 px."""

from __future__ import annotations

import contextlib
import http.server
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from bookbuild import ROOT, build_if_changed, toc_files
from bs4 import BeautifulSoup
from helpers import open_page

from bookext.publish import site_settings
from bookscripts import browser
from bookscripts import lite_browser as lb

PAGES = toc_files()
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
PREFIX = "/some-prefix/"


# The workflow (it cannot run here: it is read and checked) -------------------------------------


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([A-Za-z][\w-]*):", (ROOT / "Makefile").read_text(), flags=re.M))


def workflow_steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def test_the_workflow_builds_with_the_makefile_and_deploys_only_main():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]
    runs = [s["run"] for s in workflow_steps(build) if "run" in s]
    called = [t for r in runs for t in re.findall(r"\bmake\s+([\w-]+)", r)]
    assert called[:2] == ["test", "book"], called  # the README's commands, in that order
    assert set(called) <= makefile_targets(), f"targets the Makefile lacks: {set(called) - makefile_targets()}"
    assert "bash .ci/install-packages" in runs  # the Debian packages, as .ci/run installs them
    uses = {s["uses"].split("@")[0]: s for s in workflow_steps(build) if "uses" in s}
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-python"]["with"]["cache-dependency-path"] == "requirements.txt"
    caches = {s["with"]["path"]: s["with"] for s in workflow_steps(build) if s.get("uses", "").startswith("actions/cache@")}
    assert "hashFiles('requirements.txt')" in caches["_build/.jupyter_cache"]["key"]
    # the in-browser runtime's downloads, in the folder the build reads them from, keyed on the pins
    lite_cache = build["env"]["BOOK_LITE_CACHE"]
    assert "hashFiles('book/_ext/lite_assets.py')" in caches[lite_cache]["key"]
    assert build["env"]["BOOK_PYODIDE_SHA256"] == "${{ vars.BOOK_PYODIDE_SHA256 }}"
    assert uses["actions/upload-pages-artifact"]["if"] == "github.event_name != 'pull_request'"
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert uses["actions/upload-artifact"]["if"] == "github.event_name == 'pull_request'"
    assert deploy["needs"] == "build" and deploy["if"] == "github.event_name != 'pull_request'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_ci_and_the_workflow_install_the_same_debian_packages():
    lines = (ROOT / ".ci" / "debian-packages").read_text().splitlines()
    packages = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert {"chromium", "fonts-noto-cjk", "npm"} <= set(packages)  # npm: `npm pack pyodide` (lite_assets)
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", p) for p in packages), packages
    assert "bash .ci/install-packages" in (ROOT / ".ci" / "run").read_text()
    assert ".ci/debian-packages" in (ROOT / ".ci" / "install-packages").read_text()


def test_install_packages_skips_what_the_machine_has(tmp_path: Path):
    """Run .ci/install-packages with fake commands first on PATH: a package whose command exists (npm from
    Node.js, whose Debian package conflicts with npm's) or that dpkg reports installed is not
    passed to apt-get; the missing one is."""
    ci = tmp_path / ".ci"
    ci.mkdir()
    shutil.copy(ROOT / ".ci" / "install-packages", ci)
    (ci / "debian-packages").write_text("# a comment\nnpm\nfonts-noto-cjk\nbook-test-missing\n")
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    log = tmp_path / "apt.log"
    fakes = {
        "npm": "exit 0",
        "make": "exit 0",
        "python3.11": "exit 0",
        "id": "echo 0",
        "dpkg-query": 'case "$*" in *fonts-noto-cjk*) printf "install ok installed";; *) exit 1;; esac',
        "apt-get": f'echo "$@" >> {log}',
    }
    for name, body in fakes.items():
        (bin_ / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_ / name).chmod(0o755)
    env = {"PATH": f"{bin_}:/usr/bin:/bin", "HOME": str(tmp_path)}  # the fakes first
    done = subprocess.run(["/bin/bash", str(ci / "install-packages")], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert calls == ["update -q", "install -y -q book-test-missing"], calls


@pytest.mark.parametrize("url, prefix", [
    ("https://owner.github.io/repository", "/repository/"),
    ("https://owner.github.io/repository/", "/repository/"),
    ("https://book.example.org", "/"),
])
def test_the_site_address_gives_the_404_prefix_and_absolute_previews(url: str, prefix: str):
    settings = site_settings(url)
    assert settings["notfound_urls_prefix"] == prefix
    assert settings["ogp_site_url"].endswith(prefix) and settings["ogp_site_url"].startswith("https://")
    assert settings["ogp_image"] == "_static/book-card.png"


def test_without_an_address_the_site_stays_relative():
    assert site_settings("") == {"notfound_urls_prefix": "/", "ogp_site_url": "", "ogp_image": None, "html_baseurl": ""}
    with pytest.raises(ValueError, match="absolute http"):
        site_settings("owner.github.io/repository")


# The built site under a prefix, and its 404 page ----------------------------------------------


class _PrefixHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site under ``prefix`` (like a GitHub project page) and 404.html for what is missing."""

    prefix = "/"
    outside: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # noqa: ANN201
        path = unquote(urlparse(self.path).path)
        if not path.startswith(self.prefix):
            self.outside.append(self.path)
            self.send_error(404)
            return None
        self.path = "/" + self.path[len(self.prefix):]
        target = Path(self.translate_path(self.path))
        if not (target.is_file() or (target / "index.html").is_file()):
            body = (Path(self.directory) / "404.html").read_bytes()
            self.send_response(404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return None
        return super().send_head()


@contextlib.contextmanager
def serve_under(directory: Path, prefix: str) -> Iterator[tuple[str, list[str]]]:
    handler = type("Handler", (_PrefixHandler,), {"prefix": prefix, "outside": []})
    with browser.serve(directory, handler) as base:
        yield f"{base}{prefix}", handler.outside


@pytest.fixture(scope="module")
def prefixed_site(built_book: Path):
    with serve_under(built_book, PREFIX) as served:
        yield served


@pytest.mark.parametrize("name", PAGES + ["search"])
def test_every_page_works_under_a_sub_path(page, prefixed_site, name: str):
    base, outside = prefixed_site
    problems = open_page(page, f"{base}{name}.html")
    assert not problems["failed"], f"failed requests under {PREFIX}: {problems['failed']}"
    assert not problems["foreign"] and not problems["console"], problems
    assert not outside, f"requests that left {PREFIX}: {outside}"
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
    local = [u for u in links if urlparse(u).netloc == urlparse(base).netloc]
    strays = [u for u in local if not urlparse(u).path.startswith(PREFIX)]
    assert not strays, f"links that leave {PREFIX}: {strays[:5]}"
    for href in page.evaluate("() => Array.from(document.querySelectorAll('a.btn-download-notebook-button')).map(a => a.href)"):
        assert page.request.get(href).ok, href


def test_the_browser_notebooks_work_under_a_sub_path(lite_site, page, context, prefixed_site):  # noqa: ANN001
    """A chapter's launcher opens its notebook under the prefix; Pyodide, the kernel's packages and
    the set-up cell's wheels (backprop_lib, numpy, matplotlib, ipywidgets) all come from under it."""
    base, outside = prefixed_site
    blocked = lb.block_other_hosts(context)
    console = lb.record_console_errors(page)
    open_page(page, f"{base}book/ch2_softmax_ce.html")
    page.locator("a.lite-launch-link").click()
    page.wait_for_url(f"{base}lite/notebooks/index.html?path=ch2_softmax_ce.ipynb")
    lb.wait_kernel_idle(page)
    page.evaluate(f"{lb.NB}.content.activeCellIndex = 0")
    page.evaluate("jupyterapp.commands.execute('notebook:run-cell')")
    page.wait_for_function(f"{lb.NB}.content.widgets[0].model.executionCount !== null", timeout=240_000)
    lb.wait_kernel_idle(page)
    assert not lb.cell_errors(lb.cells(page)[:1]), lb.cell_errors(lb.cells(page)[:1])
    assert page.evaluate(f"{lb.NB}.sessionContext.session.kernel.name") == "python"
    assert not outside, f"requests that left {PREFIX}: {outside}"
    assert not blocked and not console, (blocked, console)


def test_every_page_has_an_icon_of_the_site(built_book: Path):
    """A page without ``<link rel="icon">`` makes the browser ask the host's root for /favicon.ico,
    outside a site served under a sub-path (the sub-path tests saw it when the request came in
    time). Every page has one, and it exists: the book's pages, the 404 page, the root redirect
    (book/_ext/pagefixes.py), search, and JupyterLite's pages; not lite/doc/, JupyterLite's
    script redirects into its lab app, which this site does not build and no page links to."""
    pages = [p for p in built_book.rglob("*.html")
             if not p.relative_to(built_book).as_posix().startswith(("_static/", "lite/doc/"))]
    lite = set() if build_if_changed.lite_off() else {"lite/notebooks/index.html"}  # the in-browser site, if built
    assert {"index.html", "404.html", "book/intro.html"} | lite <= {p.relative_to(built_book).as_posix() for p in pages}
    missing = []
    for path in pages:
        link = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("link", rel="icon")
        href = link and urlparse(link["href"]).path
        rel = path.relative_to(built_book).as_posix()
        if not href:
            missing.append(f"{rel}: no icon")
        elif rel != "404.html" and not (path.parent / href).is_file():  # 404.html's links are absolute
            missing.append(f"{rel}: {href} missing")
    assert not missing, missing


def test_the_404_page_leads_back_to_the_contents(page, built_book: Path):
    # built without BOOK_SITE_URL, the 404 page assumes a site at the root of its host
    with serve_under(built_book, "/") as (base, outside):
        response = page.goto(f"{base}no/such/chapter.html", wait_until="load")
        assert response.status == 404
        assert "Page not found" in page.inner_text("main")
        problems = []
        page.on("response", lambda r: r.status >= 400 and r.url != page.url and problems.append(r.url))
        page.reload(wait_until="load")
        assert not problems, f"assets of the 404 page that did not load: {problems}"
        page.get_by_role("link", name="table of contents").click()
        page.wait_for_load_state("load")
        assert urlparse(page.url).path in ("/index.html", "/book/intro.html"), page.url
        assert not outside


# What a shared link shows ---------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_every_page_describes_itself(built_book: Path, name: str):
    soup = BeautifulSoup((built_book / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
    meta = {m.get("property") or m.get("name"): m.get("content") for m in soup.find_all("meta")}
    assert soup.title.get_text().endswith("Backprop, Derived and Checked")
    assert meta["og:site_name"] == "Backprop, Derived and Checked" and meta["og:type"] == "book"
    assert meta["og:title"] and soup.title.get_text().startswith(meta["og:title"])
    assert len(meta["description"]) >= 40 and meta["og:description"] == meta["description"]
    assert "og:url" not in meta  # relative URLs are not valid Open Graph; only a published build has them


def test_the_book_card_is_drawn_at_build_time(built_book: Path):
    from PIL import Image

    with Image.open(built_book / "_static" / "book-card.png") as card:
        assert card.size == (1200, 630)
    assert not list(ROOT.glob("book/**/*.png")), "no image is kept in the repository: the build draws them"


# Accessibility --------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1280, 390])  # a desktop, and a phone (where tables stack, boxes scroll)
@pytest.mark.parametrize("name", PAGES + ["search", "404"])
def test_no_serious_accessibility_violation(page, book_server: str, name: str, width: int):
    from axe_playwright_python.sync_playwright import Axe

    page.set_viewport_size({"width": width, "height": 844})
    open_page(page, f"{book_server}/{name}.html")
    violations = Axe().run(page).response["violations"]
    serious = [f"{v['id']} ({v['impact']}, {len(v['nodes'])}x): {v['nodes'][0]['html'][:120]}" for v in violations
               if v["impact"] in ("serious", "critical")]
    assert not serious, f"{name} at {width} px: " + "; ".join(serious)
