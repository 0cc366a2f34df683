#!/usr/bin/env bash
# The whole test suite: infrastructure, emulator and deployment tests (tests/),
# then the app's own suite (app/tests, with its own pytest settings), in the
# project's Python environment (.venv, made by `make setup`).
# Arguments go to both pytest runs (e.g. -x, -k name).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
.venv/bin/python -m pytest tests "$@" || status=$?
(cd app && ../.venv/bin/python -m pytest tests "$@") || status=$?
exit $status
