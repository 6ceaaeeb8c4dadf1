#!/usr/bin/env bash
# Soak: acknowledged delivery through a server that keeps breaking the link (TCP resets, FIN without a close frame,
# 1012 closes) at a steady 500 messages a second, for 60 seconds by default (eng/soak.sh 10 for ten). Prints
# reconnects, messages, lost (must be 0), managed memory and threads at the start and the end (must stay flat), and
# exits non-zero otherwise. Everything runs in one process, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
dotnet build eng/soak/Soak.csproj -c Release >/dev/null
timeout $((seconds + 120)) dotnet run --no-build -c Release --project eng/soak/Soak.csproj -- --seconds "$seconds"
