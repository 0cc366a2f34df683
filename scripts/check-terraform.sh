#!/usr/bin/env bash
# Checks that Terraform >= 1.11 is on PATH (write-only arguments, the S3 lock file).
# It is checked, not installed: it comes from HashiCorp, not from a package list here.
set -euo pipefail
if ! command -v terraform >/dev/null; then
  echo "terraform >= 1.11 is required: https://developer.hashicorp.com/terraform/install" >&2
  exit 1
fi
version=$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')
python3 - "$version" <<'PY' || { echo "terraform $version is too old: 1.11 or newer is required (write-only arguments, S3 lock file)" >&2; exit 1; }
import sys
major, minor = (int(p) for p in sys.argv[1].split(".")[:2])
sys.exit(0 if (major, minor) >= (1, 11) else 1)
PY
