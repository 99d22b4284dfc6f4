"""The browser and the local server that everything here uses to look at the built book.

Debian's Chromium (Playwright drives it; nothing downloads a browser) with the flags it needs on
a closed network and as root, and a static server on 127.0.0.1 at a free port. Shared by the
PDF printer (scripts/make_pdf.py), the browser tests (tests/conftest.py and the tests that serve
the site their own way, with a handler of theirs), the layout report (tests/layout.py) and the
benchmarks (bench/lite.py).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

# Debian's Chromium, and the flags it needs on a closed network as root
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]


def require_chromium() -> str:
    """The path of Debian's Chromium; SystemExit with the package to install if it is missing."""
    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is required: apt-get install chromium")
    return CHROMIUM


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder's files as they are, without a log line per request."""

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serve(directory: Path, handler: type[http.server.BaseHTTPRequestHandler] = QuietHandler) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 at a free port while the block runs (with ``handler``, a
    SimpleHTTPRequestHandler subclass); yields the base URL, ``http://127.0.0.1:<port>``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
