using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>
/// A real HTTP proxy (tinyproxy, from Debian's packages; eng/install-tinyproxy.sh installs it the first time) on
/// 127.0.0.1, started by the test and killed by its process id. It allows clients on 127.0.0.1 only and, with
/// <see cref="StartAsync"/>'s <c>basicAuth</c>, answers 407 to a client without those credentials.
/// </summary>
public sealed class TinyProxy : IAsyncDisposable
{

    private readonly Process _process;
    private readonly string _directory;

    private TinyProxy(Process process, string directory, int port)
    {
        _process = process;
        _directory = directory;
        Port = port;
    }

    public int Port { get; }

    public Uri Address => new($"http://127.0.0.1:{Port}");

    /// <summary>Starts a proxy on <paramref name="port"/> (0: a free one) and waits until it accepts connections.</summary>
    public static async Task<TinyProxy> StartAsync(int port = 0, (string User, string Password)? basicAuth = null)
    {
        await EngScript.RunOnceAsync("install-tinyproxy.sh");
        if (port == 0)
        {
            using var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        string directory = Directory.CreateTempSubdirectory("tinyproxy-").FullName;
        string config = Path.Combine(directory, "tinyproxy.conf");
        var lines = new List<string>
        {
            string.Create(CultureInfo.InvariantCulture, $"Port {port}"),
            "Listen 127.0.0.1",
            "Allow 127.0.0.1",
            "Timeout 30",
            "MaxClients 100",
            "LogLevel Connect",
            $"LogFile \"{Path.Combine(directory, "tinyproxy.log")}\"",
            "DisableViaHeader Yes",
        };
        if (basicAuth is { } auth)
        {
            lines.Add($"BasicAuth {auth.User} {auth.Password}");
        }

        await File.WriteAllLinesAsync(config, lines);
        var process = Process.Start(new ProcessStartInfo("tinyproxy", $"-d -c \"{config}\"")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("tinyproxy did not start.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var proxy = new TinyProxy(process, directory, port);
        await proxy.WaitUntilListeningAsync();
        return proxy;
    }

    /// <summary>Kills the proxy (every tunnel through it drops at once).</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up.
        }
    }

    private async Task WaitUntilListeningAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (deadline.Elapsed < ClientProbe.DefaultTimeout && !_process.HasExited)
            {
                await Task.Delay(20);
            }
        }
    }
}
