#!/usr/bin/env bash
# Runs the unit tests on net8.0, which the library targets but this machine has no runtime for: it restores the
# net8 runtime pack from NuGet, lays out a private .NET root with it beside the installed runtimes, and runs
# `dotnet test` against that root. Network tests stay on net10 (they need the ASP.NET Core runtime).
set -euo pipefail
cd "$(dirname "$0")/.."

project=tests/Resilient.WebSockets.Tests
dotnet restore "$project" -p:TestTargetFramework=net8.0 -r linux-x64 -p:SelfContained=true >/dev/null

packages=$(dotnet nuget locals global-packages --list | sed -E 's/^global-packages: *//')
pack=$(ls -d "$packages"/microsoft.netcore.app.runtime.linux-x64/8.* | sort -V | tail -n 1)
version=$(basename "$pack")
installed=$(dirname "$(readlink -f "$(command -v dotnet)")")

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
root=$scratch/dotnet
mkdir -p "$root/shared/Microsoft.NETCore.App"
for entry in "$installed"/*; do
  case "$(basename "$entry")" in
    dotnet) cp "$entry" "$root/dotnet" ;;   # a copy, so that the host takes this folder as its root
    shared) ;;
    *) ln -s "$entry" "$root/$(basename "$entry")" ;;
  esac
done
for entry in "$installed"/shared/*; do
  [ "$(basename "$entry")" = Microsoft.NETCore.App ] || ln -s "$entry" "$root/shared/$(basename "$entry")"
done
for entry in "$installed"/shared/Microsoft.NETCore.App/*; do
  ln -s "$entry" "$root/shared/Microsoft.NETCore.App/$(basename "$entry")"
done
mkdir "$root/shared/Microsoft.NETCore.App/$version"
cp "$pack"/runtimes/linux-x64/lib/net8.0/* "$pack"/runtimes/linux-x64/native/* "$root/shared/Microsoft.NETCore.App/$version/"

settings="$root/net8.runsettings"
printf '<RunSettings><RunConfiguration><DotNetHostPath>%s</DotNetHostPath></RunConfiguration></RunSettings>\n' "$root/dotnet" > "$settings"
echo "net8 tests on Microsoft.NETCore.App $version"
DOTNET_ROOT="$root" "$root/dotnet" test "$project" -p:TestTargetFramework=net8.0 --settings "$settings"
