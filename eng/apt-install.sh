#!/usr/bin/env bash
# Installs Debian packages for a check that needs them (the project's scripts call this; a new machine has none of
# them): apt-get as root, or through sudo without a password; refreshes the package lists only if the first try fails.
# Usage: eng/apt-install.sh <package>...
set -euo pipefail
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
# Tests install what they need in parallel (tinyproxy, iptables): one apt-get at a time, and each waits for dpkg's lock.
exec 9>"${TMPDIR:-/tmp}/resilient-websockets-apt.lock"
flock 9
apt=(apt-get -o DPkg::Lock::Timeout=120)
run "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null 2>&1 \
  || { run "${apt[@]}" update >/dev/null && run "${apt[@]}" install -y --no-install-recommends "$@" >/dev/null; }
