# NemoRDP: `make run` brings up the whole platform locally, `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)

.PHONY: run test soak lint install clean bench bench-provisioning bench-scans bench-api bench-actions \
	bench-dashboard

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV) || \
	  { apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[local,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install
	@devtools/run.sh

test: install
	@devtools/test.sh

# Mixed load with faults on a private platform for SOAK_MINUTES (default 10), then the
# invariants; figures in test-artifacts/soak.json (see docs/reliability.md).
soak: install
	@devtools/soak.sh

bench: bench-api bench-actions bench-dashboard bench-provisioning bench-scans

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

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

clean:
	rm -rf var/run test-artifacts
