#!/usr/bin/env bash
# Prints the path of a Terraform CLI config to export as TF_CLI_CONFIG_FILE, or nothing.
#
# On machines without the Terraform registry, providers come from a filesystem
# mirror at /opt/tf-plugins (override with TF_PLUGIN_MIRROR). Where no mirror
# exists, nothing is printed and Terraform uses the public registry as usual.
set -euo pipefail
mirror="${TF_PLUGIN_MIRROR:-/opt/tf-plugins}"
[ -d "$mirror" ] || exit 0
config="$(cd "$(dirname "$0")/.." && pwd)/.local/terraform.rc"
mkdir -p "$(dirname "$config")"
cat > "$config" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/*/*"]
  }
}
plugin_cache_dir = "$(dirname "$config")/plugin-cache"
RC
mkdir -p "$(dirname "$config")/plugin-cache"
echo "$config"
