"""Measure the in-browser chapters (the JupyterLite site in _build/html/lite) as a reader meets them.

Run with `make bench-lite` (after `make book`), or `python bench/lite.py [--repeats 3]`. Prints a
table and writes _build/bench/lite.json. Nothing here asserts a time: speed is measured, not tested.

Each run starts headless Debian Chromium with a new, empty profile on disk (a first visit: no
HTTP cache, no stored notebook) and serves the built site on 127.0.0.1 with a server that
counts the bytes of every response body it sends; every request to another host is refused by
a recording proxy (none is expected). Two servers are measured:

- *plain*: Python's http.server, which sends every file as it is (what `python -m http.server`
  does, the README's local way);
- *gzip*: the same, but compressing the responses whose type compresses (HTML, CSS, JS, JSON,
  SVG and WebAssembly) when the browser accepts gzip, as static hosts commonly do; wheels and
  zip files are sent as they are in both.

For each run: **cold start**, from opening chapter 1's notebook (the page its launcher leads to)
until its kernel is ready (Pyodide started, the kernel idle); **first chapter's transfer**, the
bytes sent from that moment until every cell of chapter 1 has run (the set-up cell installs
backprop_lib, numpy, matplotlib and ipywidgets); then chapter 1's page is closed and chapter 2's
notebook is opened in the same browser: **second chapter**, the time until its kernel is ready
and the bytes sent meanwhile (the browser's cache holds the rest). Medians over the repeats,
with the machine's load average, which moves these times more than anything in the site.
"""

from __future__ import annotations

import argparse
import contextlib
import email.utils
import gzip
import http.server
import io
import json
import os
import socketserver
import statistics
import tempfile
import threading
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from bookscripts import browser
from bookscripts import lite_browser as lb
from bookscripts.browser import ARGS, CHROMIUM

ROOT = Path(__file__).resolve().parents[1]

SITE = ROOT / "_build" / "html"
OUT = ROOT / "_build" / "bench" / "lite.json"
COMPRESSIBLE = (".html", ".css", ".js", ".mjs", ".json", ".svg", ".wasm", ".map", ".txt", ".ipynb")


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; adds the size of every response body to ``sent`` (a one-item list)."""

    sent = [0]
    compress = False
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".wasm": "application/wasm"}

    def log_message(self, *args: object) -> None:
        pass

    def send_head(self):  # noqa: ANN201
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not (self.compress and wants_gzip and path.is_file() and path.suffix in COMPRESSIBLE):
            return super().send_head()
        since = self.headers.get("If-Modified-Since")
        if since and email.utils.parsedate_to_datetime(since).timestamp() >= int(path.stat().st_mtime):
            self.send_response(304)
            self.end_headers()
            return None
        body = gzip.compress(path.read_bytes(), compresslevel=6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", self.date_time_string(int(path.stat().st_mtime)))
        self.end_headers()
        return io.BytesIO(body)

    def copyfile(self, source, outputfile) -> None:  # noqa: ANN001
        data = source.read()
        self.sent[0] += len(data)
        outputfile.write(data)


class RefusingProxy(socketserver.StreamRequestHandler):
    """A proxy that refuses everything and records what was asked (requests to other hosts)."""

    asked: list[str] = []

    def handle(self) -> None:
        self.asked.append(self.rfile.readline(65536).decode("latin-1").strip())
        self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")


@contextlib.contextmanager
def servers(compress: bool):
    handler = type("Handler", (CountingHandler,), {"sent": [0], "compress": compress})
    proxy_handler = type("Proxy", (RefusingProxy,), {"asked": []})
    proxy = socketserver.ThreadingTCPServer(("127.0.0.1", 0), proxy_handler)
    proxy.daemon_threads = True
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        with browser.serve(SITE, handler) as base:  # the site, served as the tests and `make pdf` serve it
            yield base, handler.sent, proxy.server_address[1], proxy_handler.asked
    finally:
        proxy.shutdown()
        proxy.server_close()


def open_until_kernel_idle(context, base: str, notebook: str, sent: list[int]):  # noqa: ANN001, ANN201
    """Open ``notebook`` in a new page of ``context``; return the page, the seconds until its kernel
    was idle, and the server's byte count when it was opened."""
    page = context.new_page()
    start, t0 = sent[0], time.monotonic()
    page.goto(f"{base}/lite/notebooks/index.html?path={notebook}", wait_until="commit")
    lb.wait_kernel_idle(page)
    return page, time.monotonic() - t0, start


def one_run(p, compress: bool) -> dict[str, object]:  # noqa: ANN001
    with servers(compress) as (base, sent, proxy_port, asked), tempfile.TemporaryDirectory() as profile:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS, viewport={"width": 1280, "height": 900},
            proxy={"server": f"http://127.0.0.1:{proxy_port}", "bypass": "127.0.0.1"})
        try:
            page, cold, start = open_until_kernel_idle(context, base, "ch1_conv_mse.ipynb", sent)
            at_ready = sent[0] - start
            lb.run_all(page)
            errors = lb.cell_errors(lb.cells(page))
            if errors:
                raise SystemExit(f"chapter 1 raised in the browser: {errors[0]}")
            first = sent[0] - start
            page.close()
            _, second, start = open_until_kernel_idle(context, base, "ch2_softmax_ce.ipynb", sent)
            second_bytes = sent[0] - start
        finally:
            context.close()
    # what asked the proxy: Chromium's own services (sign-in, updates, autofill) do; the site's
    # pages and kernels never do (tests/test_lite*.py assert it), so the hosts are only reported
    hosts = sorted({a.split()[1].split("/")[2 if "://" in a else 0].split(":")[0] for a in asked if len(a.split()) > 1})
    return {"other_hosts_asked": hosts, "cold_start_s": cold, "bytes_to_kernel_ready": at_ready, "bytes_first_chapter": first,
            "second_chapter_s": second, "bytes_second_chapter": second_bytes, "load_average": os.getloadavg()[0]}


def site_size() -> dict[str, int]:
    lite = SITE / "lite"
    files = [p for p in lite.rglob("*") if p.is_file()]
    pyodide = [p for p in files if "static/pyodide" in p.as_posix()]
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "pyodide_bytes": sum(p.stat().st_size for p in pyodide)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not (SITE / "lite" / "jupyter-lite.json").is_file():
        raise SystemExit("no _build/html/lite: run `make book` first")
    results: dict[str, object] = {"site": site_size(), "runs": {}}
    with sync_playwright() as p:
        for compress in (False, True):
            name = "gzip" if compress else "plain"
            runs = []
            for _ in range(args.repeats):
                runs.append(one_run(p, compress))
                print(name, {k: round(v, 1) if k.endswith("_s") else v for k, v in runs[-1].items()}, flush=True)
            results["runs"][name] = runs
    hosts = sorted({h for runs in results["runs"].values() for r in runs for h in r["other_hosts_asked"]})
    MB = 1e6
    print(f"\nsite: lite/ {results['site']['bytes'] / MB:.1f} MB in {results['site']['files']} files "
          f"(Pyodide and its packages {results['site']['pyodide_bytes'] / MB:.1f} MB)")
    print(f"{'server':<7} {'cold start':>11} {'to ready':>9} {'chapter 1':>10} {'2nd chapter':>12} {'2nd bytes':>10} {'load':>5}")
    for name, runs in results["runs"].items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0] if k != "other_hosts_asked"}
        results[f"median_{name}"] = med
        print(f"{name:<7} {med['cold_start_s']:>10.1f}s {med['bytes_to_kernel_ready'] / MB:>7.1f}MB "
              f"{med['bytes_first_chapter'] / MB:>8.1f}MB {med['second_chapter_s']:>11.1f}s "
              f"{med['bytes_second_chapter'] / MB:>8.2f}MB {med['load_average']:>5.1f}")
    print(f"hosts other than 127.0.0.1 that the browser asked for (refused): {', '.join(hosts) or 'none'}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=1))
    print(f"\n{OUT}")


if __name__ == "__main__":
    browser.require_chromium()
    main()
