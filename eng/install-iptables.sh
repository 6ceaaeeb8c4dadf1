#!/usr/bin/env bash
# Installs iptables (from Debian's packages) for the integration tests that blackhole one loopback port in the kernel
# (a dead link whose packets vanish, which no user-space proxy can make); the tests call this script themselves. Needs
# apt-get and root (or sudo), and CAP_NET_ADMIN for the rules; does nothing if iptables is there.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v iptables >/dev/null 2>&1 || bash eng/apt-install.sh iptables
command -v iptables >/dev/null
