#!/usr/bin/env bash
# Installs tinyproxy (a real HTTP CONNECT proxy, from Debian's packages) for the proxy integration tests, which call
# this script themselves when it is missing. Needs apt-get and root (or sudo); does nothing if tinyproxy is there.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v tinyproxy >/dev/null 2>&1 && exit 0
bash eng/apt-install.sh tinyproxy
# The package starts a system-wide instance where it can; the tests start their own.
pkill -x tinyproxy >/dev/null 2>&1 || true
command -v tinyproxy >/dev/null
