#!/usr/bin/env bash
# `make up`: the whole deployment on embedded defaults, with no AWS account.
#
# 1. starts the local AWS emulator on 127.0.0.1:$EMULATOR_PORT,
# 2. deploys bootstrap, then foundation database app routing into it with
#    `cdktf deploy` (real Terraform plan/apply, the same stacks as for AWS),
# 3. prints the stack outputs,
# 4. serves the app locally on a throwaway PostgreSQL and prints its URL.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${EMULATOR_PORT:-5010}"
workdir=.local/emulator
mkdir -p "$workdir"
children=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

cli_config="$(scripts/terraform-cli-config.sh)"
[ -z "$cli_config" ] || export TF_CLI_CONFIG_FILE="$cli_config"
# The environment's interpreter itself (not `pipenv run`), so Ctrl-C reaches the
# processes that must clean up (the app stops its throwaway PostgreSQL).
python="$(python3 -m pipenv --py)"

"$python" -m emulator --port "$port" > "$workdir/emulator.log" 2>&1 &
children+=($!)
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
  kill -0 "${children[0]}" 2>/dev/null || { cat "$workdir/emulator.log" >&2; exit 1; }
  sleep 0.3
done
echo "AWS emulator on http://127.0.0.1:$port (log: $workdir/emulator.log)"

# The emulator's endpoint, dummy credentials, and a disposable environment. The
# synthesized Terraform is the one used for AWS; path-style S3 is the only
# emulator-only setting. Synth goes to its own directory so that the bootstrap
# stack's local state never mixes with a real deployment's.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION="${PRIMARY_AWS_REGION:-eu-west-2}"
export S3_USE_PATH_STYLE=true THROWAWAY=true
export APP_IMAGE="${APP_IMAGE:-livebeats/app:local}"
export CDKTF_OUTPUT="$workdir/cdktf.out"
rm -f "$CDKTF_OUTPUT/stacks/bootstrap/terraform.bootstrap.tfstate"

scripts/cdktf.sh deploy bootstrap
scripts/cdktf.sh deploy foundation database app routing

echo
echo "Stack outputs:"
for stack in database app routing; do
  (cd "$CDKTF_OUTPUT/stacks/$stack" && terraform output -no-color | grep -v '^cross-stack-output' | sed "s/^/  $stack: /")
done

echo
echo "Serving the app locally (throwaway PostgreSQL, development sign-in); Ctrl-C stops everything."
(cd app && exec "$python" -m livebeats dev) &
children+=($!)
wait "${children[-1]}"
