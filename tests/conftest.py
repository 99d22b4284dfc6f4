"""Fixtures shared by the tests (the book build lives in bookbuild.py)."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from bookbuild import BUILD, HTML, ROOT, STAMP, build_book, source_hash


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The path of ``_build/html``, built from the current sources (or reused if already so)."""
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        wanted = source_hash()
        if not (STAMP.exists() and STAMP.read_text() == wanted):
            shutil.rmtree(HTML, ignore_errors=True)
            result = build_book(ROOT)
            if result.returncode != 0:
                pytest.fail(f"the book build failed (exit {result.returncode}):\n{result.stdout[-6000:]}\n{result.stderr[-6000:]}")
            STAMP.write_text(wanted)
    return HTML


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium, never a browser it downloads itself."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is required for the browser tests: apt-get install chromium")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def book_server(built_book: Path):
    """Serve _build/html on 127.0.0.1 (a free port) for the duration of the session; yields its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(built_book))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
