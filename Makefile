# Live Beats on AWS, two regions, CDK for Terraform (Python).
#
#   make up        the app on a local PostgreSQL at once, and the whole deployment on a local AWS emulator
#   make test      every test suite (what CI runs), after the gates
#   make check     the gates (lint, format, types, Dockerfile) and every test that deploys nothing
#   make deploy | diff | destroy    all stacks, against whatever AWS the environment points at
#   make synth     write the Terraform JSON of all stacks to cdktf.out/
#   make cost      the monthly bill of what the current configuration deploys (list prices, idle and loaded)
#   make emulator  only the local AWS emulator, in the foreground
#   make failover | failback    DB_REPLICA=true: promote the secondary's replica and send users there, or back
#
# Each target installs what it needs first: deploy, diff, destroy and synth the Python
# environment and the cdktf CLI (and check Terraform); test also PostgreSQL, Chromium
# and a font (apt-get, when missing); up the Python environment and PostgreSQL.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PIPENV_VERSION := 2026.10.3
EMULATOR_PORT ?= 5010
export PIPENV_VENV_IN_PROJECT := 1
export PIPENV_YES := 1
export PIPENV_NOSPIN := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export EMULATOR_PORT
VENV_BIN := .venv/bin/

# pipenv itself: the one on PATH when it is the pinned version, else its own virtual
# environment in .local/pipenv (no system-wide pip install, which PEP 668 refuses on
# Debian 12 and Homebrew's Python). Evaluated only when a recipe needs it.
PIPENV = $(shell python3 -m pipenv --version 2>/dev/null | grep -q '$(PIPENV_VERSION)' && echo 'python3 -m pipenv' || echo .local/pipenv/bin/pipenv)

.PHONY: help setup deploy-tools terraform up test emulator deploy diff destroy synth cost lock

help:
	@sed -n '2,15p' Makefile | sed 's/^# \{0,1\}//'

## Installation ------------------------------------------------------------------

.local/pipenv/bin/pipenv:
	@echo "==> pipenv $(PIPENV_VERSION) into .local/pipenv"
	python3 -m venv .local/pipenv
	.local/pipenv/bin/python -m pip install --quiet --disable-pip-version-check 'pipenv==$(PIPENV_VERSION)'

.venv/.synced: Pipfile.lock app/pyproject.toml
	@echo "==> Python environment: .venv from Pipfile.lock (the first time: a few minutes)"
	@python3 -m pipenv --version 2>/dev/null | grep -q '$(PIPENV_VERSION)' || $(MAKE) --no-print-directory .local/pipenv/bin/pipenv
	$(PIPENV) sync --dev
	@touch $@

node_modules/.installed: package-lock.json
	@echo "==> cdktf CLI: node_modules from package-lock.json"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.local/system-packages: scripts/install-system-packages.sh
	@echo "==> system packages for the tests: PostgreSQL, Chromium, an emoji font"
	scripts/install-system-packages.sh postgresql chromium emoji-font
	@mkdir -p .local && touch $@

terraform:
	@scripts/check-terraform.sh

# What deploying needs, and nothing else.
deploy-tools: .venv/.synced node_modules/.installed terraform

setup: deploy-tools .local/system-packages

# Re-lock after editing Pipfile or app/pyproject.toml; the index address is kept out of both files.
lock:
	@python3 -m pipenv --version 2>/dev/null | grep -q '$(PIPENV_VERSION)' || $(MAKE) --no-print-directory .local/pipenv/bin/pipenv
	$(PIPENV) lock
	python3 scripts/strip-pipenv-sources.py Pipfile Pipfile.lock

## The main job and the tests ---------------------------------------------------

# up installs step by step itself, so that the app is served as soon as it can be.
up:
	scripts/up.sh

test: setup gates
	scripts/test.sh

# Lint, format, types (settings in pyproject.toml), the Dockerfile, the image's locked requirements and
# the READMEs' generated configuration tables.
.PHONY: gates check
gates: .venv/.synced
	$(VENV_BIN)ruff check .
	$(VENV_BIN)ruff format --check .
	$(VENV_BIN)mypy
	$(VENV_BIN)hadolint app/Dockerfile
	$(VENV_BIN)python tools/image_requirements.py --check
	PYTHONPATH=$(CURDIR):$(CURDIR)/app $(VENV_BIN)python tools/config_tables.py --check

# The gates, then both test trees (side by side, as in make test) without what applies stacks to
# the emulator: the deploy cycle (tests/deploy) and the state-safety tests.
check: gates node_modules/.installed .local/system-packages
	scripts/test.sh --no-deploy -q

## Against AWS (or the emulator when AWS_ENDPOINT_URL is set) ---------------------

emulator: .venv/.synced
	.venv/bin/python -m emulator --port $(EMULATOR_PORT)

synth: deploy-tools
	scripts/cdktf.sh synth

cost: .venv/.synced
	.venv/bin/python -m pricing

deploy: deploy-tools
	scripts/cdktf.sh deploy bootstrap foundation database app routing

diff: deploy-tools
	scripts/cdktf.sh diff bootstrap foundation database app routing

destroy: deploy-tools
	scripts/cdktf.sh destroy routing app database foundation

# DB_REPLICA=true only: promote the secondary's replica, send every user there (README "Regional failure").
.PHONY: failover failback
failover: .venv/.synced
	PYTHONPATH=$(CURDIR) .venv/bin/python scripts/failover.py failover

failback: .venv/.synced
	PYTHONPATH=$(CURDIR) .venv/bin/python scripts/failover.py failback
