#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build, test and demo ferrovs.
# Idempotent: does nothing when everything is present.
set -euo pipefail
PKGS=(libdpdk-dev dpdk pkg-config clang libclang-dev iproute2 ethtool python3 procps psmisc rsync valgrind gcc libpopt-dev netbase curl iputils-ping openssl keepalived tcpdump)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install a stable Rust toolchain (rustup) first" >&2
  exit 1
fi
