using BenchmarkDotNet.Reports;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Whether a receive run measured the clients or the server: if the server (or the machine) set the pace, Raw with
/// strings and RawBytes take the same time. The decode is real work, so a run in which RawBytes is not clearly faster
/// than Raw timed something other than the clients, and its ratios mean nothing.
/// </summary>
internal static class RunValidity
{
    /// <summary>RawBytes must take at most this share of Raw's time.</summary>
    private const double MaxBytesToStrings = 0.95;

    public static void Report(IEnumerable<Summary> summaries)
    {
        foreach (var summary in summaries.Where(s => s.BenchmarksCases.Any(c => c.Descriptor.Type == typeof(ReceiveBenchmarks))))
        {
            foreach (var size in summary.Reports.GroupBy(r => r.BenchmarkCase.Parameters.DisplayInfo))
            {
                double? raw = Mean(size, nameof(ReceiveBenchmarks.Raw));
                double? bytes = Mean(size, nameof(ReceiveBenchmarks.RawBytes));
                if (raw is null || bytes is null)
                {
                    continue;
                }

                double share = bytes.Value / raw.Value;
                Console.WriteLine(share <= MaxBytesToStrings
                    ? $"VALID receive run [{size.Key}]: RawBytes took {share:P0} of Raw's time, so the clients, not the server, set the pace."
                    : $"INVALID receive run [{size.Key}]: RawBytes took {share:P0} of Raw's time (at most {MaxBytesToStrings:P0} expected): the server or the machine set the pace; do not read these ratios.");
            }
        }
    }

    private static double? Mean(IEnumerable<BenchmarkReport> reports, string method) =>
        reports.FirstOrDefault(r => r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method)?.ResultStatistics?.Mean;
}
