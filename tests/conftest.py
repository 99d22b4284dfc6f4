"""Fixtures shared by the tests (the book build lives in bookbuild.py, shared helpers in helpers.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bookbuild import build_if_changed, current_build

from bookscripts import browser  # Debian's Chromium and the local server (as `make pdf` and bench use them)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The path of ``_build/html``, built from the current sources (or reused if already so)."""
    return current_build("html")


@pytest.fixture(scope="session")
def lite_site(built_book: Path) -> Path:
    """``_build/html/lite``, the in-browser site. When the build left it off (no Pyodide source could be
    had, book/_ext/lite.py), the test is skipped with the build's reason; under CI (``$CI`` set, as
    GitHub Actions and .ci/run do), where npm and PyPI are reachable, it fails instead."""
    reason = build_if_changed.lite_off()
    if reason is not None:
        message = f"in-browser chapters off: {reason}"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI builds them: npm and PyPI are reachable there)")
        pytest.skip(message)
    return built_book / "lite"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright launches Debian's Chromium (as `make pdf` does), never a browser it downloads."""
    if not Path(browser.CHROMIUM).exists():
        pytest.fail("Debian's chromium is required for the browser tests: apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": browser.CHROMIUM, "headless": True, "args": browser.ARGS}


@pytest.fixture(scope="session")
def book_server(built_book: Path):
    """Serve _build/html on 127.0.0.1 (a free port) for the duration of the session; yields its base URL."""
    with browser.serve(built_book) as base:
        yield base
