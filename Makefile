# Two commands do everything: `make book` and `make test`. See README.md.
VENV   ?= .venv
PY     := $(VENV)/bin/python
BUILD  := _build
# The student notebooks for JupyterLab (every chapter and the explorers under one root).
LAB    := $(BUILD)/lab
JB     := COURSECNN_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build book --config $(CURDIR)/_config.yml --toc $(CURDIR)/_toc.yml --path-output $(CURDIR)

.PHONY: lock install book book-html publish book-instructor test unit slow notebooks browser lab bench clean

install:
	@bash tools/install.sh

# Upgrade the pinned toolchain on purpose: newest releases pyproject.toml allows -> constraints.txt.
lock:
	@bash tools/lock.sh

# Student edition (no solutions): book/ copied to _build/edition/book with every solution replaced
# by a stub and the hidden tests removed (`coursecnn edition student`). Fails on any warning or failing cell.
book: install
	@$(MAKE) --no-print-directory book-html
	@$(MAKE) --no-print-directory publish

# The two halves of `make book` (`make test` runs the first beside `notebooks`).
book-html:
	$(PY) -m coursecnn edition student --out $(BUILD)/edition
	COURSECNN_BOOK_BUILD=1 $(VENV)/bin/jupyter-book build $(BUILD)/edition/book --config $(CURDIR)/_config.yml --toc $(CURDIR)/_toc.yml --path-output $(CURDIR) --all -W -n --keep-going

# Downloads from the book are the notebooks `make lab` opens (numbers from the book's own run).
publish:
	$(PY) -m coursecnn edition lab --out $(LAB) --if-missing --glue-from $(BUILD)/jupyter_execute --publish $(BUILD)/html
	@echo "The book is at: file://$(CURDIR)/$(BUILD)/html/index.html"

# Instructor edition: the sources as they are, exercise solutions shown.
book-instructor: install
	$(JB) --all -W -n --keep-going
	@echo "The instructor edition is at: file://$(CURDIR)/$(BUILD)/html/index.html"

# Tests marked slow (the real-chapter nbgrader round trip) run once, in `slow`, not here.
unit: install
	@bash tools/ensure_bwrap.sh
	$(PY) -m pytest -q -m "not gpu and not slow" --ignore=tests/browser tests

slow: install
	@bash tools/ensure_bwrap.sh
	$(PY) -m pytest -q -m "slow and not gpu" --ignore=tests/browser tests

# One kernel run per notebook: every untouched stub must fail its tests with a message naming the
# exercise, every reference solution pass, every other cell run; writes the lab edition and saves
# the chapters' numbers in book/glue.json (commit it when it changed: `make lab` reads it).
notebooks: install
	$(PY) -m coursecnn edition lab --out $(LAB) --check --jobs 2

browser: install
	@bash tools/ensure_chromium.sh
	$(PY) -m pytest -q tests/browser

# Two steps at a time where they do not share files: most of each is one busy core.
test: install
	@$(MAKE) --no-print-directory -j2 --output-sync=target unit slow
	@$(MAKE) --no-print-directory -j2 --output-sync=target notebooks book-html
	@$(MAKE) --no-print-directory publish browser
	@echo "make test: every check passed"

# JupyterLab on the student notebooks (built first if missing: the numbers come from
# book/glue.json, a chapter whose code changed since is run once; no book build). The instructor's
# nbgrader tools are off, in the server and in Lab (tools/student-lab: an extra config folder);
# Validate lists every exercise's status (coursecnn.labserver in place of nbgrader's handler).
lab:
	@EXTRAS=lab bash tools/install.sh
	$(PY) -m coursecnn edition lab --out $(LAB) --if-missing --jobs 2
	JUPYTER_CONFIG_PATH=$(CURDIR)/tools/student-lab$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH)) \
	  $(VENV)/bin/jupyter lab --ServerApp.root_dir=$(LAB) --LabApp.default_url=/lab/tree/chapters/perceptron.ipynb \
	  $(if $(filter 0,$(shell id -u)),--allow-root) --ServerApp.jpserver_extensions="{'nbgrader.server_extensions.formgrader': False, 'nbgrader.server_extensions.course_list': False, 'nbgrader.server_extensions.assignment_list': False, 'nbgrader.server_extensions.validate_assignment': False, 'coursecnn.labserver': True}"

# Speed targets live here, not in tests; results go to benchmarks/results/.
bench: install
	@set -e; for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f; done

# Keeps $(LAB): students' work lives there.
clean:
	@if [ -d $(BUILD) ]; then find $(BUILD) -mindepth 1 -maxdepth 1 ! -name lab -exec rm -rf {} +; fi
	rm -rf book/_build .pytest_cache .hypothesis
