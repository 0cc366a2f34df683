#!/usr/bin/env bash
# Synthesizes, deploys, previews and destroys the stacks with the repo's pinned cdktf CLI,
# in the project's Python environment (.venv, made by `make setup` or any make target).
#
#   scripts/cdktf.sh synth | state-bucket | deploy STACK... | diff STACK... | destroy STACK... | output STACK...
#
# deploy and destroy run without prompting (the stacks are named explicitly); what each
# verb does beyond cdktf's own (bootstrap's state, diff before the first deploy, destroy
# waiting for Global Accelerator) is described in scripts/stacks.py. CDKTF_OUTPUT, when
# set, is the synth directory (default cdktf.out): the local emulator run keeps its own.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
  echo "no Python environment in .venv: run a make target (make deploy, make setup) first" >&2
  exit 1
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
exec .venv/bin/python scripts/stacks.py "$@"
