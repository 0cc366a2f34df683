#!/usr/bin/env bash
# Runs checkov from its own virtual environment (.venv-checkov), created on first use.
#
# checkov pins dependencies that clash with the project's (boto3, pydantic, …),
# so it never joins the pipenv environment. Arguments go to checkov as they are;
# it runs offline (no version check, no policy download with --skip-download).
set -euo pipefail
CHECKOV_VERSION=3.3.30
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true BC_SKIP_MAPPING=true
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-checkov"
if ! compgen -G "$venv/lib/python3*/site-packages/checkov-$CHECKOV_VERSION.dist-info" >/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION" >&2
fi
exec "$venv/bin/checkov" "$@"
