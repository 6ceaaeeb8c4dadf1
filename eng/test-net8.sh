#!/usr/bin/env bash
# Runs the unit tests and the integration tests (real Kestrel, real ClientWebSocket) on net8.0, which the library
# targets but this machine has no runtime for: it restores the net8 runtime packs (Microsoft.NETCore.App and
# Microsoft.AspNetCore.App) from NuGet, lays out a private .NET root with them beside the installed runtimes, and runs
# `dotnet test` against that root. Usage: eng/test-net8.sh [unit|integration|all] [dotnet test arguments...]
# (default: all), e.g. eng/test-net8.sh integration --filter FlowControlTests.
set -euo pipefail
cd "$(dirname "$0")/.."

which=${1:-all}
shift || true
case "$which" in
  unit) projects=(tests/Resilient.WebSockets.Tests) ;;
  integration) projects=(tests/Resilient.WebSockets.IntegrationTests) ;;
  all) projects=(tests/Resilient.WebSockets.Tests tests/Resilient.WebSockets.IntegrationTests) ;;
  *) echo "usage: eng/test-net8.sh [unit|integration|all]" >&2; exit 2 ;;
esac

# A self-contained restore for linux-x64 is what brings the runtime packs into the package folder.
for project in "${projects[@]}"; do
  dotnet restore "$project" -p:TestTargetFramework=net8.0 -r linux-x64 -p:SelfContained=true >/dev/null
done

packages=$(dotnet nuget locals global-packages --list | sed -E 's/^global-packages: *//')
installed=$(dirname "$(readlink -f "$(command -v dotnet)")")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root=$scratch/dotnet
mkdir -p "$root/shared"
for entry in "$installed"/*; do
  case "$(basename "$entry")" in
    dotnet) cp "$entry" "$root/dotnet" ;;   # a copy, so that the host takes this folder as its root
    shared) ;;
    *) ln -s "$entry" "$root/$(basename "$entry")" ;;
  esac
done

# Every installed shared framework version stays visible; the net8 version of a framework is added from its pack.
for framework in "$installed"/shared/*; do
  mkdir -p "$root/shared/$(basename "$framework")"
  for entry in "$framework"/*; do
    ln -s "$entry" "$root/shared/$(basename "$framework")/$(basename "$entry")"
  done
done

add_net8() { # <framework name> <pack id>
  local pack version target
  pack=$(ls -d "$packages/$2"/8.* 2>/dev/null | sort -V | tail -n 1)
  [ -n "$pack" ] || { echo "eng/test-net8.sh: no $2 8.x in $packages (the restore above should have brought it)" >&2; exit 1; }
  version=$(basename "$pack")
  target="$root/shared/$1/$version"
  mkdir -p "$target"
  cp "$pack"/runtimes/linux-x64/lib/net8.0/* "$target/"
  if [ -d "$pack/runtimes/linux-x64/native" ]; then
    cp "$pack"/runtimes/linux-x64/native/* "$target/"
  fi
  echo "net8 tests on $1 $version"
}

add_net8 Microsoft.NETCore.App microsoft.netcore.app.runtime.linux-x64
if [ "$which" != unit ]; then
  add_net8 Microsoft.AspNetCore.App microsoft.aspnetcore.app.runtime.linux-x64
fi

settings="$root/net8.runsettings"
printf '<RunSettings><RunConfiguration><DotNetHostPath>%s</DotNetHostPath></RunConfiguration></RunSettings>\n' "$root/dotnet" > "$settings"
status=0
for project in "${projects[@]}"; do
  DOTNET_ROOT="$root" "$root/dotnet" test "$project" -p:TestTargetFramework=net8.0 --settings "$settings" "$@" || status=1
done
exit $status
