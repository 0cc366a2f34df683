#!/usr/bin/env bash
# Runs the repo's pinned cdktf CLI inside the pipenv environment.
#
#   scripts/cdktf.sh synth | deploy STACK... | diff STACK... | destroy STACK... | output STACK...
#
# deploy and destroy run without prompting (the stacks are named explicitly).
# CDKTF_OUTPUT, when set, is the synth directory (and so where the bootstrap
# stack's local state lives): the local emulator run keeps its own.
# Where the Terraform registry is replaced by a local provider mirror (see
# terraform-cli-config.sh), `terraform providers lock` cannot reach the registry,
# so the CLI is told to skip it.
set -euo pipefail
cd "$(dirname "$0")/.."
command="$1"; shift
cli_config="$(scripts/terraform-cli-config.sh)"
extra=()
if [ -n "$cli_config" ]; then
  export TF_CLI_CONFIG_FILE="$cli_config"
  case "$command" in deploy|diff|destroy|synth) extra+=(--skip-provider-lock) ;; esac
fi
case "$command" in deploy|destroy) extra+=(--auto-approve) ;; esac
case "$command" in synth) extra=() ;; esac
[ -z "${CDKTF_OUTPUT:-}" ] || extra+=(--output "$CDKTF_OUTPUT")
exec python3 -m pipenv run node_modules/.bin/cdktf "$command" "$@" "${extra[@]}"
