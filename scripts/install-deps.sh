#!/usr/bin/env bash
# Installs the Debian 12 packages kvs needs to build and test, only those missing.
set -euo pipefail
packages=(cmake make g++ pkg-config libuv1-dev nlohmann-json3-dev libcxxopts-dev
          librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev python3
          redis-tools "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing missing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
