# NemoRDP: `make run` brings up the whole platform locally, `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
# Every package of the runtime, local and dev extras, pinned with its hashes (`make lock`).
LOCK := requirements-dev.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha1sum | cut -c1-12)
PIP_COMPILE = $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(ARGS)

.PHONY: run test soak cluster lint install lock wheel clean bench bench-provisioning bench-scans bench-api \
	bench-actions bench-dashboard bench-passwords bench-console

$(STAMP): pyproject.toml $(LOCK)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || \
	  { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q --require-hashes -r $(LOCK)
	$(VENV)/bin/pip install -q --no-deps -e .
	@rm -f $(VENV)/.installed-* && touch $@

# The dashboard's bundles (app/static/build), built with the esbuild pinned in
# package-lock.json whenever a source under app/static changes (devtools/build_assets.py).
ASSETS := app/static/build/manifest.json
ASSET_SOURCES := $(shell find app/static/js app/static/css app/static/img -type f)

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	npm ci --ignore-scripts --no-audit --no-fund

$(ASSETS): $(STAMP) node_modules/.package-lock.json devtools/build_assets.py $(ASSET_SOURCES)
	$(VENV)/bin/python -m devtools.build_assets

install: $(STAMP) $(ASSETS)

# After changing a dependency in pyproject.toml: pin the runtime's whole tree
# (requirements.lock, what a production host installs) and the development tree on top of it.
# Existing pins are kept where they still fit; ARGS=--upgrade moves every one to the newest.
lock: install
	$(PIP_COMPILE) -o requirements.lock pyproject.toml
	$(PIP_COMPILE) --extra local --extra dev -c requirements.lock -o $(LOCK) pyproject.toml

# The wheel (and source archive) an operator installs: dist/nemordp-<version>-py3-none-any.whl,
# with the dashboard's bundles built afresh.
wheel: install
	$(VENV)/bin/python -m devtools.build_assets
	$(VENV)/bin/python -m build --outdir dist .

run: install
	@devtools/run.sh

test: install
	@devtools/test.sh

# Mixed load with faults on a private platform for SOAK_MINUTES (default 10), then the
# invariants; figures in test-artifacts/soak.json (see docs/reliability.md).
soak: install
	@devtools/soak.sh

cluster: install
	@devtools/cluster.sh $(ARGS)

bench: bench-api bench-actions bench-dashboard bench-passwords bench-provisioning bench-scans \
	bench-console

bench-provisioning: install
	@devtools/bench.sh bench/provisioning_scale.py $(ARGS)

bench-scans: install
	@devtools/bench.sh bench/scheduled_scans.py $(ARGS)

bench-api: install
	@devtools/bench.sh bench/api_load.py $(ARGS)

bench-actions: install
	@devtools/bench.sh bench/action_latency.py $(ARGS)

bench-dashboard: install
	@devtools/bench.sh bench/dashboard_load.py $(ARGS)

bench-passwords: install
	@devtools/bench.sh bench/password_change.py $(ARGS)

bench-console: install
	@test -x /usr/sbin/xrdp || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xrdp; }
	@devtools/bench.sh bench/console.py $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf var/run test-artifacts
