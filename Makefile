# Kit Desktop: `make run` starts the app, `make test` runs the whole suite.
# Both bootstrap .venv on first use; `make test` also installs the system packages
# the tests use (Xvfb, gnome-keyring, D-Bus, Chromium) when it can.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
PYTEST_ARGS ?=

.PHONY: run test check lint sysdeps sandbox clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/python main.py

sandbox: $(RUN_STAMP)
	$(BIN)/python -m kit_desktop.sandbox

sysdeps:
	@tests/install-system-packages.sh

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: sysdeps $(DEV_STAMP) lint
	tests/run-suite.sh $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build dist .pyi-cache .mypy_cache .ruff_cache .pytest_cache
