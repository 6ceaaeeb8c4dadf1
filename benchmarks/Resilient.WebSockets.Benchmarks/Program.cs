using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

namespace Resilient.WebSockets.Benchmarks;

public static class Program
{
    /// <summary>
    /// Everything:   dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --all
    /// All suites:   dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --filter '*'
    /// Quick check:  dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --quick --filter '*'
    /// Downtime:     dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --downtime
    /// Latency:      dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --latency
    /// Scale:        dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --scale
    /// </summary>
    public static async Task Main(string[] args)
    {
        if (args.Contains("--downtime"))
        {
            await DowntimeRunner.RunAsync();
            return;
        }

        if (args.Contains("--latency"))
        {
            await LatencyRunner.RunAsync();
            return;
        }

        if (args.Contains("--scale"))
        {
            await ScaleRunner.RunAsync(args.Contains("--quick") ? [1_000] : [1_000, 10_000]);
            return;
        }

        bool quick = args.Contains("--quick");
        bool all = args.Contains("--all");
        var rest = args.Where(a => a is not ("--quick" or "--all")).ToArray();
        if (all)
        {
            rest = [.. rest, "--filter", "*"];
        }

        // Every operation is a whole connection's worth of messages (tens of milliseconds or more), so one invocation
        // per iteration; many iterations, because client and server share two noisy cores.
        var job = Job.Default.WithInvocationCount(1).WithUnrollFactor(1).WithLaunchCount(1)
            .WithWarmupCount(quick ? 1 : 3).WithIterationCount(quick ? 5 : 15);
        IConfig config = DefaultConfig.Instance.AddJob(job.AsDefault());

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config);
        if (all)
        {
            // The two measurements BenchmarkDotNet cannot make: per-round-trip tails and memory held per idle connection.
            await LatencyRunner.RunAsync();
            await ScaleRunner.RunAsync(quick ? [1_000] : [1_000, 10_000]);
        }
    }
}
