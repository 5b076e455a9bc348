# The two commands a fresh machine needs:  make run   and   make check
VENV ?= .venv
PY := $(VENV)/bin/python
# Exact versions with hashes: requirements.lock (what `make run` needs) and
# requirements-dev.lock (that plus tests, linters and training, torch's CPU
# build included). `make lock` refreshes them after a pyproject change,
# `make upgrade` moves every pin to the newest release; `make check` after either.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
HASH := $(shell cat pyproject.toml $(LOCK) $(DEV_LOCK) | sha1sum | cut -c1-12)
RUN_STAMP := $(VENV)/.run-$(HASH)
DEV_STAMP := $(VENV)/.dev-$(HASH)

.PHONY: run demo check test lint install clean lock upgrade

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml $(LOCK) | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r $(LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.run-*; touch $@

# Training extras and test tools, from the development lock (torch's CPU build).
$(DEV_STAMP): pyproject.toml $(DEV_LOCK) | $(VENV)/bin/python
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.dev-* $(VENV)/.run-*; touch $@ $(RUN_STAMP)

# pip-tools lives in its own venv so that .venv holds exactly the lock.
LOCK_VENV := .venv-lock
COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet \
	--allow-unsafe --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links

$(LOCK_VENV)/bin/pip-compile:
	python3 -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/pip install --quiet pip-tools

lock: $(LOCK_VENV)/bin/pip-compile
	$(COMPILE) $(PIP_COMPILE_ARGS) --extra dev --extra train -o $(DEV_LOCK) pyproject.toml requirements-dev.in
	$(COMPILE) $(PIP_COMPILE_ARGS) -c $(DEV_LOCK) -o $(LOCK) pyproject.toml

upgrade:
	$(MAKE) lock PIP_COMPILE_ARGS=--upgrade

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
	rm -rf $(VENV) $(LOCK_VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
