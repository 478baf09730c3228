# Kit Desktop: `make run` starts the app, `make test` runs the whole suite.
# Both bootstrap .venv on first use; `make test` also installs the system packages
# the tests use (Xvfb, gnome-keyring, D-Bus, Chromium) when it can.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
PYTEST_ARGS ?=

# Builds (`make dist`): a separate environment with the runtime dependencies only.
DIST_VENV := .venv-dist
DIST_BIN := $(DIST_VENV)/bin
DIST_STAMP := $(DIST_VENV)/.installed
SPEC := packaging/kit_desktop.spec
PYINSTALLER := PYINSTALLER_CONFIG_DIR=$(CURDIR)/.pyi-cache $(DIST_BIN)/pyinstaller \
	--noconfirm --log-level WARN
APP_SOURCES := main.py $(SPEC) packaging/spec_support.py \
	$(shell find kit_desktop resources -type f ! -path '*/__pycache__/*' ! -name '*.pyc')
ONEDIR_APP := dist/onedir/kit-desktop/kit-desktop
ONEFILE_APP := dist/onefile/kit-desktop

.PHONY: run test check lint sysdeps sandbox dist dist-onedir smoke-test release relay-site clean

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

# mypy once more as Windows and macOS see the app (os.getuid, fcntl... are not there), and
# the workflows with actionlint (shellcheck on their scripts) and zizmor (their security).
lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy --platform win32 --no-warn-unreachable --cache-dir .mypy_cache/win32 \
		kit_desktop main.py packaging
	$(BIN)/mypy --platform darwin --no-warn-unreachable --cache-dir .mypy_cache/darwin \
		kit_desktop main.py packaging
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/actionlint
	$(BIN)/zizmor --offline --persona pedantic --quiet .github/workflows
	$(BIN)/shellcheck .ci/run tests/*.sh packaging/linux/install.sh

test: sysdeps $(DEV_STAMP) lint $(ONEDIR_APP)
	tests/run-suite.sh $(PYTEST_ARGS)

$(DIST_STAMP): packaging/requirements.txt
	$(PYTHON) -m venv $(DIST_VENV)
	$(DIST_BIN)/python -m pip install -q --upgrade pip
	$(DIST_BIN)/python -m pip install -q -r packaging/requirements.txt
	touch $@

$(ONEDIR_APP): $(DIST_STAMP) $(APP_SOURCES)
	$(PYINSTALLER) --distpath dist/onedir --workpath build/pyi/onedir $(SPEC) -- --mode onedir
	touch $@

$(ONEFILE_APP): $(DIST_STAMP) $(APP_SOURCES)
	$(PYINSTALLER) --distpath dist/onefile --workpath build/pyi/onefile $(SPEC) -- --mode onefile
	touch $@

dist-onedir: $(ONEDIR_APP)

dist: $(ONEDIR_APP) $(ONEFILE_APP)
	@echo "one-folder app: $(ONEDIR_APP)"
	@echo "one-file app:   $(ONEFILE_APP)"

# What a creator downloads (this platform's): dist/release/kit-desktop-<version>-linux-<arch>.tar.gz
# with install.sh, and SHA256SUMS. .github/workflows/release.yml does the same on Windows and macOS.
release: $(ONEDIR_APP)
	rm -rf dist/release
	$(DIST_BIN)/python packaging/package.py --out dist/release
	$(DIST_BIN)/python packaging/package.py --checksums dist/release

# The frozen app checks itself against the built-in sandbox (needs a Secret Service).
smoke-test: $(ONEDIR_APP)
	$(ONEDIR_APP) --smoke-test

# The publisher's relay page, baked with this build's ports and app hosts: a folder ready
# to host on any https static host (docs/publishing.md). Run again whenever they change.
relay-site: $(RUN_STAMP)
	$(BIN)/python packaging/relay_site.py --out dist/relay-site

clean:
	rm -rf $(VENV) $(DIST_VENV) build dist .pyi-cache .mypy_cache .ruff_cache .pytest_cache
