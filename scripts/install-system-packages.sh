#!/usr/bin/env bash
# Installs the Debian packages the tests and the local run use, when missing:
# PostgreSQL's server binaries (throwaway clusters), Chromium (browser tests) and
# an emoji font (the player's buttons in screenshots).
# Terraform itself is checked, not installed: it comes from HashiCorp, not Debian.
set -euo pipefail

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
[ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

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
