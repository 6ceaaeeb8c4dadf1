#!/usr/bin/env bash
# Makes one loopback TCP port a blackhole, or a port again: every packet to or from it on lo is dropped by the kernel
# (iptables INPUT rules), so a connection through it goes half-open with nothing acknowledged, the way a dead link does.
# Used by the integration tests, which turn it off again themselves. Usage: eng/loopback-blackhole.sh on|off <port>
set -euo pipefail
cd "$(dirname "$0")/.."
run() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
[ $# = 2 ] && [[ "$2" =~ ^[0-9]+$ ]] || { echo "usage: eng/loopback-blackhole.sh on|off <port>" >&2; exit 2; }
bash eng/install-iptables.sh
port=$2
rules=("-i lo -p tcp --dport $port -j DROP" "-i lo -p tcp --sport $port -j DROP")
for rule in "${rules[@]}"; do
  case "$1" in
    # shellcheck disable=SC2086
    on) run iptables -w -C INPUT $rule 2>/dev/null || run iptables -w -A INPUT $rule ;;
    # shellcheck disable=SC2086
    off) while run iptables -w -C INPUT $rule 2>/dev/null; do run iptables -w -D INPUT $rule; done ;;
    *) echo "usage: eng/loopback-blackhole.sh on|off <port>" >&2; exit 2 ;;
  esac
done
