# The two commands a fresh machine needs:  make run   and   make check
VENV ?= .venv
PY := $(VENV)/bin/python
HASH := $(shell sha1sum pyproject.toml | cut -c1-12)
RUN_STAMP := $(VENV)/.run-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)

.PHONY: run demo check test lint install clean

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	rm -f $(VENV)/.run-*; touch $@

# Training extras and test tools. torch first, pinned: its CPU build is what we
# want; an unpinned torch requirement would pull a CUDA build of several GB.
$(DEV_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev,train]'
	rm -f $(VENV)/.dev-* $(VENV)/.run-*; touch $@ $(RUN_STAMP)

install: $(RUN_STAMP)

## Install and start the main job: the dashboard on the mock feed and embedded SQLite.
run: $(RUN_STAMP)
	$(VENV)/bin/gridtui

## The same on a fast simulated market, so everything moves within seconds.
demo: $(RUN_STAMP)
	$(VENV)/bin/gridtui --demo

## Install and run every check: format, lint, types, import contracts, tests.
check: $(DEV_STAMP) lint test

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy engine feeds models gridtui tests bench
	$(VENV)/bin/lint-imports

test: $(DEV_STAMP)
	$(VENV)/bin/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
