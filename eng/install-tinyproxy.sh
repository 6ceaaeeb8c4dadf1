#!/usr/bin/env bash
# Installs tinyproxy (a real HTTP CONNECT proxy, from Debian's packages) for the proxy integration tests, which call
# this script themselves when it is missing. Needs apt-get and root (or sudo); does nothing if tinyproxy is there.
set -euo pipefail
command -v tinyproxy >/dev/null 2>&1 && exit 0
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
run apt-get install -y --no-install-recommends tinyproxy >/dev/null 2>&1 \
  || { run apt-get update >/dev/null && run apt-get install -y --no-install-recommends tinyproxy >/dev/null; }
# The package starts a system-wide instance where it can; the tests start their own.
run pkill -x tinyproxy >/dev/null 2>&1 || true
command -v tinyproxy >/dev/null
