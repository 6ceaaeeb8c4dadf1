using System.Diagnostics;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>Starts benchmarks/BenchmarkServer as a separate process on 127.0.0.1 and stops it on dispose.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, int port, int tlsPort, string thumbprint)
    {
        _process = process;
        Port = port;
        TlsPort = tlsPort;
        Thumbprint = thumbprint;
    }

    public int Port { get; }

    /// <summary>The port that speaks TLS, with a self-signed certificate.</summary>
    public int TlsPort { get; }

    /// <summary>The SHA-256 thumbprint of that certificate, for a pinning callback.</summary>
    public string Thumbprint { get; }

    public Uri Url(string pathAndQuery) => new($"ws://127.0.0.1:{Port}{pathAndQuery}");

    public Uri TlsUrl(string pathAndQuery) => new($"wss://127.0.0.1:{TlsPort}{pathAndQuery}");

    /// <summary>Accepts exactly the server's certificate.</summary>
    public System.Net.Security.RemoteCertificateValidationCallback Pin()
    {
        string thumbprint = Thumbprint;
        return (_, certificate, _, _) => certificate is not null
            && string.Equals(certificate.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256), thumbprint, StringComparison.OrdinalIgnoreCase);
    }

    public static ServerProcess Start()
    {
        string server = FindServer();
        var process = Process.Start(new ProcessStartInfo("dotnet", $"\"{server}\"")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("Could not start the benchmark server.");
        string? line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("listening on ", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"The benchmark server did not start: '{line}'.");
        }

        // "listening on <port> tls <port> <thumbprint>"
        var parts = line.Split(' ');
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new ServerProcess(process, int.Parse(parts[2], invariant), int.Parse(parts[4], invariant), parts[5]);
    }

    public void Dispose()
    {
        _process.StandardInput.Close();
        if (!_process.WaitForExit(5000))
        {
            _process.Kill();
        }

        _process.Dispose();
    }

    /// <summary>The server's build output, found from the repository root (BenchmarkDotNet runs us from a generated folder).</summary>
    private static string FindServer()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Resilient.WebSockets.sln")))
        {
            directory = directory.Parent;
        }

        if (directory is null)
        {
            throw new InvalidOperationException("Run the benchmarks from inside the repository.");
        }

        foreach (var configuration in new[] { "Release", "Debug" })
        {
            string path = Path.Combine(directory.FullName, "benchmarks", "BenchmarkServer", "bin", configuration, "net10.0", "BenchmarkServer.dll");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException("Build benchmarks/BenchmarkServer first (the benchmark project builds it).");
    }
}
