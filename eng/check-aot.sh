#!/usr/bin/env bash
# Publishes eng/aot-check as a native AOT app (warnings are errors, so a trim or AOT warning from the library fails
# here) and runs it: it connects to a WebSocket server on 127.0.0.1, echoes, reconnects once and echoes again.
# Native AOT needs clang and zlib's headers: installed from Debian's packages when missing (root or sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang >/dev/null 2>&1 || [ ! -e /usr/include/zlib.h ]; then
  bash eng/apt-install.sh clang zlib1g-dev
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish eng/aot-check -c Release -r linux-x64 -o "$out" >"$out.log" 2>&1 || { tail -30 "$out.log"; rm -f "$out.log"; exit 1; }
rm -f "$out.log"
timeout 60 "$out/AotCheck"
