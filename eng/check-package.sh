#!/usr/bin/env bash
# Packs the library and its hosting package with a unique version, then builds and runs a fresh console app that
# references both packages from that local folder (not the projects): a broken package fails here. The app is the
# README's quickstart against an embedded echo server on 127.0.0.1, then the same through AddReconnectingWebSocket and
# a generic host. Then a fresh xunit project references the packed testing kit and runs the three tests its README
# shows, exactly as shown. Package sources other than the local folder come from the machine's NuGet
# configuration.
set -euo pipefail
cd "$(dirname "$0")/.."

version="0.1.0-check.$(date +%s)"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
dotnet pack src/Resilient.WebSockets -c Release -o "$scratch/packages" -p:Version="$version" >/dev/null
dotnet pack src/Resilient.WebSockets.Extensions.Hosting -c Release -o "$scratch/packages" -p:Version="$version" >/dev/null
dotnet pack src/Resilient.WebSockets.Testing -c Release -o "$scratch/packages" -p:Version="$version" >/dev/null
ls "$scratch/packages/Resilient.WebSockets.Testing.$version.nupkg" >/dev/null
ls "$scratch/packages/Resilient.WebSockets.$version.nupkg" "$scratch/packages/Resilient.WebSockets.$version.snupkg" >/dev/null
ls "$scratch/packages/Resilient.WebSockets.Extensions.Hosting.$version.nupkg" >/dev/null

app="$scratch/consumer"
mkdir -p "$app"
cat > "$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local-check" value="$scratch/packages" />
  </packageSources>
</configuration>
XML
cat > "$app/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <FrameworkReference Include="Microsoft.AspNetCore.App" />
    <PackageReference Include="Resilient.WebSockets" Version="$version" />
    <PackageReference Include="Resilient.WebSockets.Extensions.Hosting" Version="$version" />
  </ItemGroup>
</Project>
XML
cat > "$app/Program.cs" <<'CS'
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets;
using Resilient.WebSockets.Extensions.Hosting;

// An echo server on 127.0.0.1, then the README's quickstart against it.
var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
await using var app = builder.Build();
app.UseWebSockets();
app.Map("/", async context =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var buffer = new byte[4096];
    while (true)
    {
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
        if (result.MessageType == WebSocketMessageType.Close)
        {
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
            return;
        }

        await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
    }
});
await app.StartAsync();
var port = new Uri(app.Urls.First()).Port;

await using var client = new ReconnectingWebSocket(new Uri($"ws://127.0.0.1:{port}/"));
var echoed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
using var messages = client.Messages.Subscribe(m => echoed.TrySetResult(m.Text));
await client.StartAsync();
await client.SendAsync("hello from the package");
Console.WriteLine($"echo: {await echoed.Task.WaitAsync(TimeSpan.FromSeconds(20))}");
await client.StopAsync();
if (client.State != ConnectionState.Stopped)
{
    return 1;
}

// The hosting package: registered in three lines, started and stopped with a generic host.
var hostBuilder = Host.CreateApplicationBuilder();
hostBuilder.Logging.ClearProviders();
hostBuilder.Services.AddReconnectingWebSocket("echo", o => o.Uri = new Uri($"ws://127.0.0.1:{port}/"))
    .StartWithHost(waitForConnection: true);
using var host = hostBuilder.Build();
await host.StartAsync();
var hosted = host.Services.GetRequiredService<IReconnectingWebSocketFactory>().GetClient("echo");
var hostedEcho = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
using var hostedMessages = hosted.Messages.Subscribe(m => hostedEcho.TrySetResult(m.Text));
await hosted.SendAsync("hello from the hosting package");
Console.WriteLine($"echo: {await hostedEcho.Task.WaitAsync(TimeSpan.FromSeconds(20))}");
await host.StopAsync();
return hosted.State == ConnectionState.Stopped ? 0 : 1;
CS
repo="$PWD"
cd "$app"
dotnet run -c Release 2>&1 | tail -n 5
echo "package check: Resilient.WebSockets and Resilient.WebSockets.Extensions.Hosting $version build and run from the packages"

# The testing kit: its README's tests in a project of their own, from the package.
kit="$scratch/kit-tests"
mkdir -p "$kit"
cp "$app/nuget.config" "$kit/nuget.config"
versions="$repo/Directory.Packages.props"
pkg() { sed -n "s/.*PackageVersion Include=\"$1\" Version=\"\([^\"]*\)\".*/\1/p" "$versions"; }
cat > "$kit/KitTests.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <IsPackable>false</IsPackable>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="$(pkg Microsoft.NET.Test.Sdk)" />
    <PackageReference Include="xunit" Version="$(pkg xunit)" />
    <PackageReference Include="xunit.runner.visualstudio" Version="$(pkg xunit.runner.visualstudio)" />
    <PackageReference Include="Resilient.WebSockets.Testing" Version="$version" />
  </ItemGroup>
</Project>
XML
awk '/^```csharp$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' "$repo/src/Resilient.WebSockets.Testing/README.md" > "$kit/PriceBoardTests.cs"
cd "$kit"
result=$(dotnet test 2>&1 | tail -n 3)
echo "$result"
echo "$result" | grep -q "Passed:     3" || { echo "package check: the testing kit README's tests did not all pass from the package"; exit 1; }
echo "package check: Resilient.WebSockets.Testing $version: its README's three tests pass from the package"
