# The two commands a newcomer needs: `make book` and `make test`. Both set up .venv first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt pyproject.toml | sha256sum | cut -c1-12)
export PATH := $(BIN):$(PATH)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: book test setup notebooks pdf bench clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The HTML book. `--all` re-reads every page (a fresh Sphinx environment), so a rebuild after a
# failed build fails again instead of passing on stale pages; execution results come from the
# jupyter-cache, keyed on backprop_lib (see book/_ext/libhash.py), so nothing re-executes needlessly.
book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W -n --keep-going
	@echo "The book: $(CURDIR)/_build/html/index.html"

# The whole test suite: the library's tests, the book's build tests and every chapter under nbval.
# pytest exits 5 when it collects nothing: that is a failure here, as is any other non-zero code.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --nbval-current-env -p no:randomly tests book

# The whole book as one PDF, printed by Debian's Chromium from the single-page HTML build (no LaTeX).
pdf: $(STAMP)
	$(BIN)/jupyter-book build . --builder singlehtml --all -W -n --keep-going
	$(BIN)/python scripts/make_pdf.py _build/singlehtml _build/pdf/book.pdf

# Medians of what readers, authors and CI wait for (see bench/run.py); writes _build/bench/results.json.
bench: $(STAMP)
	$(BIN)/python bench/run.py

notebooks: $(STAMP)
	$(BIN)/jupytext --to ipynb book/*.md --quiet
	@ls book/*.ipynb

clean:
	rm -rf _build book/*.ipynb
