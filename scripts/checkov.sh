#!/usr/bin/env bash
# Runs checkov from its own virtual environment (.venv-checkov), created on first use.
#
# checkov pins dependencies that clash with the project's (boto3, pydantic, …),
# so it never joins the pipenv environment. Arguments go to checkov as they are.
set -euo pipefail
CHECKOV_VERSION=3.3.30
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-checkov"
if [ "$("$venv/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
fi
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
exec "$venv/bin/checkov" "$@"
