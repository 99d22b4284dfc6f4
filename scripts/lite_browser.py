"""Drive the book's in-browser notebooks (JupyterLite, lite/ in the built site) with Playwright.

Shared by the browser tests (tests/test_lite*.py) and the measurements (bench/lite.py). The site
exposes its application as ``window.jupyterapp`` (``exposeAppInBrowser`` in book/_ext/lite.py),
so the notebook, its kernel and its outputs are read from the application's own models.
"""

from __future__ import annotations

from urllib.parse import urlparse

NB = "jupyterapp.shell.currentWidget"

KERNEL_IDLE = (f"() => {{ const nb = window.jupyterapp && {NB}; const s = nb && nb.sessionContext && "
               "nb.sessionContext.session; return !!(s && s.kernel && s.kernel.status === 'idle' "
               "&& nb.content && nb.content.widgets.length > 0); }")
ALL_RUN = (f"() => {{ const nb = {NB}; const code = nb.content.widgets.filter(w => w.model.type === 'code');"
           "return nb.sessionContext.session.kernel.status === 'idle' && code.every(c => "
           "c.model.executionCount !== null && c.model.executionState !== 'running'); }")


def block_other_hosts(context, host: str = "127.0.0.1") -> list[str]:
    """Abort every request of ``context`` (pages and their workers) to a host other than ``host``;
    return the list the aborted URLs are recorded in."""
    blocked: list[str] = []

    def route(r):  # noqa: ANN001
        url = r.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == host:
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return blocked


def record_console_errors(page) -> list[str]:  # noqa: ANN001
    """Console errors and uncaught exceptions of ``page``, as they come."""
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{m.text} {m.location.get('url', '')}"))
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    return errors


def wait_kernel_idle(page, timeout_s: float = 240) -> None:  # noqa: ANN001
    """Until the notebook is open and its Pyodide kernel has started and is idle."""
    page.wait_for_function(KERNEL_IDLE, timeout=timeout_s * 1000, polling=100)


def run_all(page, timeout_s: float = 600) -> None:  # noqa: ANN001
    """Run every cell (the notebook's own "Run All Cells") and wait until each has run."""
    page.evaluate("jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RUN, timeout=timeout_s * 1000, polling=500)


def cells(page) -> list[dict]:  # noqa: ANN001
    """The notebook as nbformat JSON cells (sources, execution counts, outputs)."""
    return page.evaluate(f"{NB}.context.model.toJSON().cells")


def cell_errors(notebook_cells: list[dict]) -> list[str]:
    """``ename: evalue`` (and the traceback's last lines) of every error output."""
    out = []
    for cell in notebook_cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                tail = "\n".join(o.get("traceback", [])[-3:])
                out.append(f"{o.get('ename')}: {o.get('evalue')}\n{tail}")
    return out


def output_text(notebook_cells: list[dict]) -> str:
    """Everything the cells printed, and the text form of what they displayed (a check's line:
    ``check_step`` displays its result as a table with that text beside it)."""
    parts = []
    for cell in notebook_cells:
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                text, end = o.get("text", ""), ""
            elif o.get("output_type") in ("display_data", "execute_result"):
                text, end = o.get("data", {}).get("text/plain", ""), "\n"
            else:
                continue
            parts.append(("".join(text) if isinstance(text, list) else text) + end)
    return "".join(parts)


def images(notebook_cells: list[dict]) -> list[str]:
    """The PNG figures the cells drew (base64)."""
    return [o["data"]["image/png"] for cell in notebook_cells for o in cell.get("outputs", [])
            if "image/png" in o.get("data", {})]
