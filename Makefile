# Two commands do everything: `make book` and `make test`. See README.md.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BUILD  := _build
JB     := COURSECNN_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build book --config $(CURDIR)/_config.yml --toc $(CURDIR)/_toc.yml --path-output $(CURDIR)

.PHONY: lock install book book-instructor test unit slow notebooks browser lab bench clean

install:
	@bash tools/install.sh

# Upgrade the pinned toolchain on purpose: newest releases pyproject.toml allows -> constraints.txt.
lock:
	@bash tools/lock.sh

# Student edition (no solutions): book/ copied to _build/edition/book with every solution replaced
# by a stub and the hidden tests removed (`coursecnn edition student`). Fails on any warning or failing cell.
book: install
	$(PY) -m coursecnn edition student --out $(BUILD)/edition
	COURSECNN_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build $(BUILD)/edition/book --config $(CURDIR)/_config.yml --toc $(CURDIR)/_toc.yml --path-output $(CURDIR) --all -W -n --keep-going
	@echo "The book is at: file://$(CURDIR)/$(BUILD)/html/index.html"

# Instructor edition: the sources as they are, exercise solutions shown.
book-instructor: install
	$(JB) --all -W -n --keep-going
	@echo "The instructor edition is at: file://$(CURDIR)/$(BUILD)/html/index.html"

# Tests marked slow (the real-chapter nbgrader round trip) run once, in `slow`, not here.
unit: install
	$(PY) -m pytest -q -m "not gpu and not slow" --ignore=tests/browser tests

slow: install
	$(PY) -m pytest -q -m "slow and not gpu" --ignore=tests/browser tests

notebooks: install
	$(PY) -m pytest -q --nbval-lax --nbval-current-env book/chapters book/explorers.ipynb

browser: install
	@bash tools/ensure_chromium.sh
	$(PY) -m pytest -q tests/browser

test: unit slow notebooks book browser
	@echo "make test: every check passed"

lab: install
	$(VENV)/bin/jupyter lab book/chapters book/explorers.ipynb

# Speed targets live here, not in tests; results go to benchmarks/results/.
bench: install
	@set -e; for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f; done

clean:
	rm -rf $(BUILD) book/_build .pytest_cache .hypothesis
