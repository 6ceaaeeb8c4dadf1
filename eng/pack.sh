#!/usr/bin/env bash
# Builds the package from this clone into artifacts/packages and says how to use it from an app of your own.
# Usage: eng/pack.sh            (the version in the project file, a preview)
#        eng/pack.sh 0.1.0-dev.7  (any version you like)
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/artifacts/packages"
args=(-c Release -o "$out")
if [ $# -gt 0 ]; then
  args+=(-p:Version="$1")
fi

dotnet pack src/Resilient.WebSockets "${args[@]}" >/dev/null
dotnet pack src/Resilient.WebSockets.Extensions.Hosting "${args[@]}" >/dev/null
dotnet pack src/Resilient.WebSockets.Testing "${args[@]}" >/dev/null
package=$(ls -t "$out"/Resilient.WebSockets.[0-9]*.nupkg | head -1)
version=$(basename "$package" .nupkg | sed 's/^Resilient\.WebSockets\.//')
echo "Built $package, its hosting package (Resilient.WebSockets.Extensions.Hosting) and its testing kit (Resilient.WebSockets.Testing)"
echo
echo "To use it from your app (once per machine, then in your project's folder):"
echo "  dotnet nuget add source \"$out\" --name resilient-websockets-local"
echo "  dotnet add package Resilient.WebSockets --version $version"
echo "  dotnet add package Resilient.WebSockets.Extensions.Hosting --version $version   # for dependency injection and the generic host"
echo "  dotnet add package Resilient.WebSockets.Testing --version $version                    # in a test project: the in-memory server, fake clock and probe"
