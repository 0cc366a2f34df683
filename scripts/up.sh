#!/usr/bin/env bash
# `make up`: the app at once, and the whole deployment on a local AWS emulator, with no AWS account.
#
# The app does not depend on the emulated deployment, so the two run side by side:
#   1. installs, in parallel: the Python environment (.venv), PostgreSQL, the cdktf CLI;
#   2. as soon as the first two are there, serves the app on a throwaway PostgreSQL and
#      prints its URL;
#   3. meanwhile starts the emulator on 127.0.0.1:$EMULATOR_PORT and deploys bootstrap,
#      then foundation database app routing into it (scripts/cdktf.sh: real Terraform
#      plan/apply of the same stacks as for AWS), then prints the stack outputs.
# Every step prints when it starts and ends, with the seconds since the start; the long
# ones write their output to .local/up/*.log. Ctrl-C stops everything it started.
# Plain bash 3.2 and POSIX tools, so it runs on macOS too.
set -euo pipefail
cd "$(dirname "$0")/.."

port="${EMULATOR_PORT:-5010}"
logs=.local/up
mkdir -p "$logs"
started_at=$(date +%s)
children=()
app_pid=""

say() { printf '[%4ss] %s\n' "$(( $(date +%s) - started_at ))" "$*"; }

# Each step runs in a process group of its own, and stopping one stops all it started
# (npm, cdktf, Terraform, the emulator). The app is only told to stop: it removes its
# throwaway PostgreSQL itself.
cleanup() {
  trap - INT TERM EXIT
  for pid in ${children[@]+"${children[@]}"}; do
    if [ "$pid" = "$app_pid" ]; then kill -TERM "$pid" 2>/dev/null || true; else kill -TERM -- "-$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

# Runs a step in the background in its own process group (no setsid on macOS), its
# output in .local/up/<name>.log; its pid in $last_pid.
background() {
  local name="$1"; shift
  say "start: $name (log: $logs/$name.log)"
  python3 -c 'import os, sys; os.setpgid(0, 0); os.execvp(sys.argv[1], sys.argv[1:])' "$@" > "$logs/$name.log" 2>&1 &
  last_pid=$!
  children+=("$last_pid")
}

# Waits for a background step, printing a line every 20 s with the last line of its log.
finish() {
  local name="$1" pid="$2" waited=0
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
    if [ $((waited % 20)) -eq 0 ]; then
      say "  … $name: $(tail -n 1 "$logs/$name.log" 2>/dev/null | cut -c1-100)"
    fi
  done
  if ! wait "$pid"; then
    say "FAILED: $name; the end of $logs/$name.log:"
    tail -n 30 "$logs/$name.log" >&2
    exit 1
  fi
  say "done: $name"
}

say "installing what is missing (a fresh machine: a few minutes)"
background python-environment make --no-print-directory .venv/.synced; python_pid=$last_pid
background postgresql scripts/install-system-packages.sh postgresql; postgresql_pid=$last_pid
background cdktf-cli make --no-print-directory node_modules/.installed terraform; cli_pid=$last_pid

finish python-environment "$python_pid"
finish postgresql "$postgresql_pid"

# The app: a throwaway PostgreSQL (the newest server installed, unless POSTGRES_BIN_DIR says),
# local file storage, development sign-in.
if [ -z "${POSTGRES_BIN_DIR:-}" ]; then
  for dir in /usr/lib/postgresql/*/bin; do [ -x "$dir/initdb" ] && POSTGRES_BIN_DIR="$dir"; done
  [ -n "${POSTGRES_BIN_DIR:-}" ] || POSTGRES_BIN_DIR="$(dirname "$(command -v initdb)")"
  export POSTGRES_BIN_DIR
fi
# The environment's interpreter itself (not `pipenv run`), so Ctrl-C reaches the
# processes that must clean up (the app stops its throwaway PostgreSQL).
background app sh -c 'cd app && exec ../.venv/bin/python -m livebeats dev'; app_pid=$last_pid
app_url=""
for _ in $(seq 1 120); do
  app_url="$(sed -n 's/^Live Beats (development) on \(http[^ ]*\).*/\1/p' "$logs/app.log" | head -n 1)"
  [ -n "$app_url" ] && curl -fs -o /dev/null "$app_url" && break
  kill -0 "$app_pid" 2>/dev/null || { say "FAILED: the app; $logs/app.log:"; cat "$logs/app.log" >&2; exit 1; }
  app_url=""
  sleep 0.5
done
[ -n "$app_url" ] || { say "FAILED: the app did not answer within a minute; see $logs/app.log"; exit 1; }
say "THE APP IS UP: open $app_url (development sign-in; log: $logs/app.log)"

# The emulated deployment, alongside.
finish cdktf-cli "$cli_pid"
background emulator .venv/bin/python -m emulator --port "$port"; emulator_pid=$last_pid
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$logs/emulator.log" >&2; exit 1; }
  sleep 0.3
done
say "AWS emulator on http://127.0.0.1:$port"

# The emulator's endpoint, dummy credentials, and a disposable environment. The
# synthesized Terraform is the one used for AWS; path-style S3 is the only
# emulator-only setting. Synth goes to its own directory so that it never mixes with a
# real deployment's. The emulator forgets everything when it stops.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION="${PRIMARY_AWS_REGION:-eu-west-2}"
export S3_USE_PATH_STYLE=true THROWAWAY=true
export APP_IMAGE="${APP_IMAGE:-livebeats/app:local}"
export CDKTF_OUTPUT=.local/emulator/cdktf.out
cli_config="$(scripts/terraform-cli-config.sh)"
[ -z "$cli_config" ] || export TF_CLI_CONFIG_FILE="$cli_config"
background deploy scripts/cdktf.sh deploy bootstrap foundation database app routing; deploy_pid=$last_pid
finish deploy "$deploy_pid"

echo
echo "Stack outputs:"
for stack in database app routing; do
  (cd "$CDKTF_OUTPUT/stacks/$stack" && terraform output -no-color | grep -v '^cross-stack-output' | sed "s/^/  $stack: /")
done
echo
say "all up. The app: $app_url (the emulator has no containers: the app you open is the same code, run locally). Ctrl-C stops everything."
wait "$app_pid"
