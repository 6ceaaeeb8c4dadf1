using BenchmarkDotNet.Attributes;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>A suite that runs against benchmarks/BenchmarkServer, started in its own process once per suite.</summary>
public abstract class ServerBenchmarks
{
    protected ServerProcess Server { get; private set; } = null!;

    [GlobalSetup]
    public virtual void Setup() => Server = ServerProcess.Start();

    [GlobalCleanup]
    public void Cleanup() => Server.Dispose();
}
