"""scripts/build_if_changed.py: one build per source state, shared by `make book`, `make pdf` and the tests.

Jupyter Book itself is replaced by a recorder here (the real builds are tested in test_book.py
and test_pdf.py): these tests check the decisions, when to build and with which flags.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from bookbuild import ROOT, build_if_changed


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[list[str]], dict[str, int]]:
    """A scratch root with the files the hash reads; the build is recorded, and succeeds unless told."""
    for name in ("_config.yml", "_toc.yml", "requirements.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "build_if_changed.py", tmp_path / "scripts")
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    (tmp_path / "backprop_lib").mkdir()
    (tmp_path / "backprop_lib" / "__init__.py").write_text("X = 1\n")
    build = tmp_path / "_build"
    for name in build_if_changed.SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(build_if_changed, "ROOT", tmp_path)
    monkeypatch.setattr(build_if_changed, "BUILD", build)
    monkeypatch.setattr(build_if_changed, "OK", build / ".book-ok")
    monkeypatch.setattr(build_if_changed, "LOCK", build / ".build.lock")
    calls: list[list[str]] = []
    outcome = {"returncode": 0}

    def fake_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        calls.append(cmd)
        builder = cmd[cmd.index("--builder") + 1]
        page = build / builder / ("index.html" if builder == "html" else "book/intro.html")
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<html></html>")
        return subprocess.CompletedProcess(cmd, outcome["returncode"], "", "")

    monkeypatch.setattr(build_if_changed.subprocess, "run", fake_run)
    return tmp_path, calls, outcome


def test_build_once_then_reuse_until_a_source_changes(book):
    root, calls, _ = book
    assert build_if_changed.build("html").returncode == 0
    assert "--all" in calls[-1] and {"-W", "-n", "--keep-going"} <= set(calls[-1])  # no build yet: every page
    assert build_if_changed.is_current("html")
    assert build_if_changed.build("html") is None and len(calls) == 1  # nothing changed: nothing run
    for edited in ("book/intro.md", "backprop_lib/__init__.py"):
        path = root / edited
        path.write_text(path.read_text() + "\n# edited\n")
        assert not build_if_changed.is_current("html"), edited
        build_if_changed.build("html")
        assert "--all" not in calls[-1], edited  # Sphinx sees these itself: incremental
        assert build_if_changed.is_current("html")


@pytest.mark.parametrize("edited", ["book/_static/book.css", "book/_ext/lite.py", "_config.yml", "requirements.txt",
                                    "README.md"])
def test_a_change_sphinx_does_not_see_rebuilds_every_page(book, edited: str):
    """Sphinx 7.4's incremental build with no page out of date copies no static file and writes
    nothing: a stylesheet edited alone would never reach the site."""
    root, calls, _ = book
    build_if_changed.build("html")
    (root / "book" / "intro.md").write_text("# Intro, edited\n")  # a page too: still --all
    path = root / edited
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + "\n/* edited */\n")
    build_if_changed.build("html")
    assert "--all" in calls[-1], edited
    assert build_if_changed.is_current("html")
    (root / "book" / "intro.md").write_text("# Intro, edited again\n")
    build_if_changed.build("html")
    assert "--all" not in calls[-1]  # the next page edit alone is incremental again


def test_a_new_page_counts_but_caches_and_notebook_copies_do_not(book):
    root, _, _ = book
    build_if_changed.build("html")
    (root / "book" / "intro.ipynb").write_text("{}")
    (root / "book" / "__pycache__").mkdir()
    (root / "book" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (root / "book" / ".ipynb_checkpoints").mkdir()
    (root / "book" / ".ipynb_checkpoints" / "intro-checkpoint.md").write_text("old")
    assert build_if_changed.is_current("html")
    (root / "book" / "new.md").write_text("# New\n")
    assert not build_if_changed.is_current("html")


def test_after_a_failed_build_nothing_is_current_and_the_next_build_rereads_every_page(book):
    root, calls, outcome = book
    build_if_changed.build("html")
    (root / "book" / "intro.md").write_text("# Intro, edited\n")
    outcome["returncode"] = 1
    assert build_if_changed.build("html").returncode == 1
    assert not build_if_changed.is_current("html") and not (root / "_build" / ".book-ok").exists()
    assert build_if_changed.build("html").returncode == 1 and "--all" in calls[-1]  # tried again, in full
    outcome["returncode"] = 0
    build_if_changed.build("html")
    assert "--all" in calls[-1] and build_if_changed.is_current("html")


def test_the_single_page_build_reuses_the_environment_and_leaves_the_html_current(book):
    _, calls, outcome = book
    build_if_changed.build("html")
    build_if_changed.build("singlehtml")
    assert calls[-1][calls[-1].index("--builder") + 1] == "singlehtml" and "--all" not in calls[-1]
    assert build_if_changed.is_current("html") and build_if_changed.is_current("singlehtml")
    assert build_if_changed.build("singlehtml") is None and len(calls) == 2
    # a failed single-page build spoils the shared environment, not the HTML that was built before it
    (Path(build_if_changed.ROOT) / "book" / "intro.md").write_text("# changed\n")
    outcome["returncode"] = 1
    build_if_changed.build("singlehtml")
    outcome["returncode"] = 0
    build_if_changed.build("html")
    assert "--all" in calls[-1]


def test_a_removed_output_is_not_current(book):
    root, calls, _ = book
    build_if_changed.build("html")
    shutil.rmtree(root / "_build" / "html")
    assert not build_if_changed.is_current("html")
    build_if_changed.build("html")
    assert len(calls) == 2


def test_the_in_browser_settings_count_and_make_book_tries_an_off_site_again(book, monkeypatch: pytest.MonkeyPatch):
    """BOOK_PYODIDE & co. are recorded (a change builds again, incrementally: book/_ext/lite.py re-reads
    the pages whose launcher comes or goes); a build whose in-browser site is off is current for the
    tests, and `make book` (retry_lite_off) builds again: a source may be reachable now."""
    root, calls, _ = book
    build_if_changed.build("html")
    assert build_if_changed.source_files()["$BOOK_PYODIDE"] == "(unset)"
    monkeypatch.setenv("BOOK_PYODIDE", "/somewhere/pyodide-0.27.7.tar.bz2")
    assert not build_if_changed.is_current("html")
    build_if_changed.build("html")
    assert "--all" not in calls[-1] and build_if_changed.is_current("html")
    assert build_if_changed.lite_off() is None
    (root / "_build" / ".lite-status.json").write_text('{"on": false, "reason": "npm is not on PATH"}')
    assert build_if_changed.lite_off() == "npm is not on PATH"
    assert build_if_changed.build("html") is None and build_if_changed.build("singlehtml", retry_lite_off=True)
    count = len(calls)
    assert build_if_changed.build("html", retry_lite_off=True).returncode == 0
    assert len(calls) == count + 1 and "--all" not in calls[-1]


def test_an_unknown_builder_is_refused():
    with pytest.raises(ValueError, match="builder"):
        build_if_changed.build("latex")
