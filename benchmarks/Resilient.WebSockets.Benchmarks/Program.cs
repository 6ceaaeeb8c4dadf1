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
    /// Dry run (CI): dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --dry --filter '*'
    /// Downtime:     dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --downtime
    /// Latency:      dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --latency
    /// Scale:        dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --scale
    /// Side by side: dotnet run -c Release --project benchmarks/Resilient.WebSockets.Benchmarks -- --sidebyside [--quick]
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

        if (args.Contains("--sidebyside"))
        {
            await SideBySideRunner.RunAsync(args.Contains("--quick"));
            return;
        }

        if (args.Contains("--scale"))
        {
            await ScaleRunner.RunAsync(args.Contains("--quick") ? [1_000] : [1_000, 10_000]);
            return;
        }

        bool quick = args.Contains("--quick");
        bool all = args.Contains("--all");
        bool dry = args.Contains("--dry");
        var rest = args.Where(a => a is not ("--quick" or "--all" or "--dry")).ToArray();
        if (all)
        {
            rest = [.. rest, "--filter", "*"];
        }

        // Every operation is a whole connection's worth of messages (tens of milliseconds or more), so one invocation
        // per iteration; many iterations, because client and server share two noisy cores.
        // A dry run (CI) runs every case once, so that no suite can rot; it times nothing worth reading.
        var job = Job.Default.WithInvocationCount(1).WithUnrollFactor(1).WithLaunchCount(1)
            .WithWarmupCount(dry ? 0 : quick ? 1 : 3).WithIterationCount(dry ? 1 : quick ? 5 : 15);
        if (dry)
        {
            job = job.WithStrategy(BenchmarkDotNet.Engines.RunStrategy.ColdStart);
        }

        IConfig config = DefaultConfig.Instance.AddJob(job.AsDefault()).WithOrderer(new AlternatingOrderer());

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(rest, config).ToList();
        if (summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)))
        {
            Console.WriteLine("A benchmark failed to run.");
            Environment.ExitCode = 1;
        }

        if (!dry)
        {
            RunValidity.Report(summaries);
        }

        if (all)
        {
            // What BenchmarkDotNet cannot measure: per-round-trip tails, costs of a few percent (contestants interleaved
            // round by round) and memory held per idle connection.
            await LatencyRunner.RunAsync();
            await SideBySideRunner.RunAsync(quick);
            await ScaleRunner.RunAsync(quick ? [1_000] : [1_000, 10_000]);
        }
    }
}
