#!/usr/bin/env bash
# The whole test suite, in the project's Python environment (.venv, made by `make setup`):
# the infrastructure, emulator and deployment tests (tests/) and the app's own suite
# (app/tests, with its own pytest settings).
#
#   scripts/test.sh [--no-deploy] [PYTEST ARGUMENT...]
#
# --no-deploy leaves out what applies stacks to an emulator: the deploy cycle (tests/deploy)
# and the state-safety tests (a stack applied, twice at once); `make check` runs that.
# The other arguments go to every pytest run (e.g. -x, -q, -k name).
#
# The suite runs as five pytest runs side by side, each with its own PostgreSQL clusters,
# servers, browser and emulators: tests/, and the app's suite in four parts of about a
# minute each (alone, on two cores). Most app tests wait (for heartbeats and expiry, a
# browser's playback, a stopped database) while the infrastructure tests compute (jsii,
# Terraform, checkov), so the suite takes about as long as its longest run rather than the
# sum. Each run writes to .local/test-logs/<run>.log, printed whole when the run ends, and
# keeps its own pytest cache (--lf works per run). The exit status is the worst of the
# runs'; a run that collects no test (-k naming tests of another run) counts as passed
# unless none collects any. Ctrl-C reaches every run (they share the terminal's process
# group) and each tears down what it started; a TERM is passed on to them as that interrupt.
# Plain bash 3.2 and POSIX tools, so it runs on macOS too.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
logs=.local/test-logs
mkdir -p "$logs"

infra=(tests)
if [ "${1:-}" = "--no-deploy" ]; then
  infra+=(--ignore=tests/deploy --ignore=tests/security/test_state_safety.py)
  shift
fi

names=()
pids=()
started_at=$(date +%s)

# run NAME DIRECTORY PYTEST-ARGUMENT...: pytest in DIRECTORY, in the background.
run() {
  local name="$1" directory="$2"
  shift 2
  (cd "$directory" && exec "$root/.venv/bin/python" -m pytest -o "cache_dir=.pytest_cache/$name" "$@") >"$logs/$name.log" 2>&1 &
  names+=("$name")
  pids+=("$!")
}

# The app's parts: the browser tests that play a song to listeners (a third of the browser
# suite's time), the other browser tests, the tests of nodes (the realtime bus between them,
# a node killed, a region lost), and the rest.
playback=(tests/browser/test_sync.py tests/browser/test_listening.py)
nodes=(tests/realtime tests/test_live_nodes.py tests/failover)
run tests . "${infra[@]}" "$@"
run app-playback app "${playback[@]}" "$@"
run app-browser app tests/browser "${playback[@]/#/--ignore=}" "$@"
run app-nodes app "${nodes[@]}" "$@"
run app app tests --ignore=tests/browser "${nodes[@]/#/--ignore=}" "$@"

trap ':' INT
trap 'kill -INT "${pids[@]}" 2>/dev/null' TERM

worst=0
collected=false
left=${#pids[@]}
while [ "$left" -gt 0 ]; do
  for i in "${!pids[@]}"; do
    pid="${pids[$i]}"
    if [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null; then
      continue
    fi
    wait "$pid"
    code=$?
    pids[$i]=""
    left=$((left - 1))
    echo "==> ${names[$i]}: exit $code after $(($(date +%s) - started_at)) s (log: $logs/${names[$i]}.log)"
    cat "$logs/${names[$i]}.log"
    if [ "$code" -eq 5 ]; then
      continue
    fi
    collected=true
    if [ "$code" -gt "$worst" ]; then
      worst=$code
    fi
  done
  if [ "$left" -gt 0 ]; then
    sleep 1
  fi
done

if ! $collected; then
  exit 5
fi
exit "$worst"
