#!/usr/bin/env bash
# Makes the operating system report a network address change (what joining Wi-Fi, a VPN or a new DHCP lease does), for
# the integration test of the client's reaction to one: it adds a loopback address (127.77.x.y/32 on lo, which nothing
# talks to) and removes it again; each is an address event that .NET's NetworkChange raises. A veth pair coming up is
# not enough: .NET on Linux reports it as availability only, and its IPv6 link-local addresses not at all.
# Needs iproute2 (installed if missing) and CAP_NET_ADMIN. Usage: eng/network-change.sh <n> (0 to 65535; the test passes
# its own, so parallel runs do not collide)
set -euo pipefail
cd "$(dirname "$0")/.."
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
[ $# = 1 ] && [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -le 65535 ] || { echo "usage: eng/network-change.sh <0 to 65535>" >&2; exit 2; }
command -v ip >/dev/null 2>&1 || bash eng/apt-install.sh iproute2
address="127.77.$(($1 / 256)).$(($1 % 256))/32"
trap 'run ip addr del "$address" dev lo 2>/dev/null || true' EXIT
run ip addr add "$address" dev lo
