#!/usr/bin/env bash
# The whole test suite: infrastructure, emulator and deployment tests (tests/),
# then the app's own suite (app/tests, with its own pytest settings).
# Arguments go to both pytest runs (e.g. -x, -k name).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
python3 -m pipenv run python -m pytest tests "$@" || status=$?
(cd app && python3 -m pipenv run python -m pytest tests "$@") || status=$?
exit $status
