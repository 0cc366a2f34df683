# Live Beats on AWS, two regions, CDK for Terraform (Python).
#
#   make up        the whole deployment on a local AWS emulator, then the app on a local PostgreSQL
#   make test      every test suite (what CI runs), after the gates
#   make check     the gates (lint, format, types, Dockerfile) and every test that deploys nothing
#   make deploy | diff | destroy    all stacks, against whatever AWS the environment points at
#   make synth     write the Terraform JSON of all stacks to cdktf.out/
#   make cost      the monthly bill of what the current configuration deploys (list prices, idle and loaded)
#   make emulator  only the local AWS emulator, in the foreground
#
# Each target installs what it needs first (pipenv environment, cdktf CLI, system packages).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PIPENV_VERSION := 2026.10.3
EMULATOR_PORT ?= 5010
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_YES := 1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export EMULATOR_PORT

PIPENV := python3 -m pipenv
RUN := $(PIPENV) run

.PHONY: help setup up test emulator deploy diff destroy synth cost lock

help:
	@sed -n '2,12p' Makefile | sed 's/^# \{0,1\}//'

## Installation ------------------------------------------------------------------

.local/pipenv-$(PIPENV_VERSION):
	@python3 -m pipenv --version 2>/dev/null | grep -q '$(PIPENV_VERSION)' || python3 -m pip install --quiet 'pipenv==$(PIPENV_VERSION)'
	@mkdir -p .local && touch $@

.venv/.synced: Pipfile.lock app/pyproject.toml .local/pipenv-$(PIPENV_VERSION)
	$(PIPENV) sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.local/system-packages: scripts/install-system-packages.sh
	scripts/install-system-packages.sh
	@mkdir -p .local && touch $@

setup: .venv/.synced node_modules/.installed .local/system-packages

# Re-lock after editing Pipfile or app/pyproject.toml; the index address is kept out of both files.
lock: .local/pipenv-$(PIPENV_VERSION)
	$(PIPENV) lock
	python3 scripts/strip-pipenv-sources.py Pipfile Pipfile.lock

## The main job and the tests ---------------------------------------------------

up: setup
	scripts/up.sh

test: setup gates
	scripts/test.sh

# Lint, format, types (settings in pyproject.toml), the Dockerfile, the image's locked requirements and
# the READMEs' generated configuration tables.
.PHONY: gates check
gates: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) hadolint app/Dockerfile
	$(RUN) python tools/image_requirements.py --check
	PYTHONPATH=$(CURDIR):$(CURDIR)/app $(RUN) python tools/config_tables.py --check

# The gates, then both test trees without what applies stacks to the emulator: the deploy cycle
# (tests/deploy) and the state-safety tests (a stack applied, twice at once).
check: gates node_modules/.installed .local/system-packages
	PYTHONPATH=$(CURDIR) $(RUN) python -m pytest tests -q --ignore=tests/deploy --ignore=tests/security/test_state_safety.py
	cd app && $(RUN) python -m pytest tests -q

## Against AWS (or the emulator when AWS_ENDPOINT_URL is set) ---------------------

emulator: setup
	$(RUN) python -m emulator --port $(EMULATOR_PORT)

synth: setup
	scripts/cdktf.sh synth

cost: .venv/.synced
	$(RUN) python -m pricing

deploy: setup
	scripts/cdktf.sh deploy bootstrap
	scripts/cdktf.sh deploy foundation database app routing

diff: setup
	scripts/cdktf.sh diff foundation database app routing

destroy: setup
	scripts/cdktf.sh destroy routing app database foundation

# DB_REPLICA=true only: promote the secondary's replica, send every user there (README "Regional failure").
.PHONY: failover failback
failover: .venv/.synced
	PYTHONPATH=$(CURDIR) $(RUN) python scripts/failover.py failover

failback: .venv/.synced
	PYTHONPATH=$(CURDIR) $(RUN) python scripts/failover.py failback
