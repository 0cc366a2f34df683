#!/usr/bin/env bash
# Installs, when missing, the Debian packages named on the command line:
#   postgresql   PostgreSQL's server binaries (throwaway clusters: the tests, `make up`)
#   chromium     the browser tests
#   emoji-font   the player's buttons in screenshots
# Deploying needs none of them. Elsewhere than Debian/Ubuntu it says what to install.
set -euo pipefail

missing=()
for want in "$@"; do
  case "$want" in
    postgresql) compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql) ;;
    chromium) command -v chromium >/dev/null || missing+=(chromium) ;;
    emoji-font) [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || missing+=(fonts-noto-color-emoji) ;;
    *) echo "unknown package group: $want (allowed: postgresql chromium emoji-font)" >&2; exit 2 ;;
  esac
done
[ ${#missing[@]} -gt 0 ] || exit 0

if ! command -v apt-get >/dev/null; then
  echo "missing: ${missing[*]}; install them with your package manager (e.g. brew install postgresql@16)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} with apt-get"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
