"""`make lab`: its JupyterLab extensions agree with each other, and a chapter opens in it as a
notebook with its MyST rendered, runs to the end and has live sliders, all served from 127.0.0.1.

The server is `make lab` itself, started for the test on a free port of 127.0.0.1 (with a known
token, and the app exposed to the page so the test can drive it), in its own process group that
is stopped after the test; user settings, workspaces and runtime files go to a temporary folder.
Headless Debian Chromium (Playwright) opens the chapter; every request to a host other than
127.0.0.1 is aborted and recorded, and the test asserts there is none.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bookbuild import CHAPTERS, ROOT

JUPYTER = ROOT / ".venv" / "bin" / "jupyter"
EXTENSIONS = ("jupyterlab-myst", "jupyterlab-jupytext", "@jupyter-widgets/jupyterlab-manager")


def test_lab_extensions_agree_with_jupyterlab():
    """jupyterlab-myst, jupytext's and the widgets' extensions are compatible with the pinned JupyterLab
    (jupyterlab-myst 2.7.0 is not with 4.6: `jupyter labextension list` would flag it and Lab skip it)."""
    result = subprocess.run([str(JUPYTER), "labextension", "list"], capture_output=True, text=True, timeout=120)
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    assert "not compatible" not in out, out
    for name in EXTENSIONS:
        assert re.search(rf"{re.escape(name)} v\S+ enabled OK", out), f"{name} not enabled OK:\n{out}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab_server(tmp_path: Path):
    """`make lab` on 127.0.0.1; yields (base URL, token); stops the whole process group after the test."""
    port, token = free_port(), hashlib.sha256(os.urandom(16)).hexdigest()[:32]
    user = tmp_path / "user-settings"
    # no autosave: running the chapter must not write it back through jupytext
    (user / "@jupyterlab" / "docmanager-extension").mkdir(parents=True)
    (user / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings").write_text('{"autosave": false}')
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "MAKEFLAGS", "MFLAGS")}
    env.update(JUPYTERLAB_SETTINGS_DIR=str(user), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"))
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 (closed below)
    args = f"--IdentityProvider.token={token} --LabApp.expose_app_in_browser=True"
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_PORT={port}", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.fail(f"make lab exited ({proc.returncode}):\n{(tmp_path / 'lab.log').read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within 120 s:\n{(tmp_path / 'lab.log').read_text()[-4000:]}")
            time.sleep(1)
        text = (tmp_path / "lab.log").read_text()
        assert f"http://127.0.0.1:{port}/lab" in text, "the server does not print its URL on 127.0.0.1"
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        log.close()


def chapter_with_slider() -> str:
    for name in CHAPTERS:
        if re.search(r"\b\w*Slider\(", (ROOT / f"{name}.md").read_text(encoding="utf-8")):
            return name
    pytest.fail("no chapter has a slider")


NOTEBOOK = "jupyterapp.shell.currentWidget"


def test_a_chapter_runs_in_make_lab(page, lab_server: tuple[str, str]):
    base, token = lab_server
    name = chapter_with_slider()
    source = ROOT / f"{name}.md"
    before = source.read_bytes()
    foreign: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            r.continue_()
        else:
            foreign.append(url)
            r.abort()

    page.route("**/*", route)
    console: list[str] = []
    page.on("console", lambda m: m.type in ("error", "warning") and console.append(m.text))
    page.set_viewport_size({"width": 1280, "height": 900})
    relpath = Path(name).relative_to("book").as_posix()  # make lab serves book/
    page.goto(f"{base}/lab/tree/{relpath}.md?token={token}&reset", wait_until="load")
    # opened as a notebook (jupytext), not as a text file
    page.wait_for_function(f"window.jupyterapp && {NOTEBOOK} && {NOTEBOOK}.content && {NOTEBOOK}.content.widgets "
                           f"&& {NOTEBOOK}.content.widgets.length > 10", timeout=120_000)
    assert page.evaluate(f"{NOTEBOOK}.context.path") == f"{relpath}.md"

    # a Markdown cell with a {math} block is rendered by jupyterlab-myst: typeset, no raw MyST left
    index = page.evaluate(f"{NOTEBOOK}.content.widgets.findIndex(w => w.model.type === 'markdown' "
                          "&& w.model.sharedModel.getSource().includes('{math}'))")
    assert index >= 0, "no Markdown cell with a {math} block"
    page.wait_for_function(f"{NOTEBOOK}.content.widgets[{index}].node.querySelector('.katex, mjx-container')",
                           timeout=60_000)
    rendered = page.evaluate(f"{NOTEBOOK}.content.widgets[{index}].node.querySelector('.jp-MarkdownOutput, "
                             ".jp-RenderedMarkdown, .myst').innerText")
    for raw in ("$$", "{math}", ":label:"):
        assert raw not in rendered, f"{raw!r} in the rendered cell: {rendered[:500]}"

    # run all: every code cell executed, none raised
    page.wait_for_function(f"{NOTEBOOK}.sessionContext.session && {NOTEBOOK}.sessionContext.session.kernel "
                           f"&& {NOTEBOOK}.sessionContext.session.kernel.status === 'idle'", timeout=120_000)
    page.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(f"""() => {{ const nb = {NOTEBOOK};
        const code = nb.content.widgets.filter(w => w.model.type === 'code');
        return nb.sessionContext.session.kernel.status === 'idle'
            && code.every(c => c.model.executionCount !== null && c.model.executionState !== 'running'); }}""",
                           timeout=600_000, polling=1000)
    errors = page.evaluate(f"{NOTEBOOK}.context.model.toJSON().cells.flatMap(c => (c.outputs || [])"
                           ".filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue))")
    assert not errors, errors

    # moving a slider changes what its widget shows (the figure is drawn again)
    widget = page.locator(".jp-NotebookPanel:visible .widget-interact").first
    widget.scroll_into_view_if_needed()
    widget.locator("img").first.wait_for(timeout=60_000)
    picture = widget.locator("img").first.get_attribute("src")
    readout = widget.locator(".widget-readout").first.inner_text()
    widget.locator(".widget-slider .noUi-handle").first.click()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("([el, before]) => { const img = el.querySelector('img'); return img && img.src !== before; }",
                           arg=[widget.element_handle(), picture], timeout=60_000)
    assert widget.locator(".widget-readout").first.inner_text() != readout
    page.screenshot(path=str(ROOT / "_build" / "screenshots" / "lab.png")) if (ROOT / "_build" / "screenshots").is_dir() else None

    assert not foreign, f"requests to other hosts: {foreign}"
    # the Pyodide kernel's extension (in .venv for the book's JupyterLite site) is not even tried here
    assert not [m for m in console if "jupyterlite" in m.lower()], console
    assert source.read_bytes() == before, "running the chapter in make lab changed its source"
