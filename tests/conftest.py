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
