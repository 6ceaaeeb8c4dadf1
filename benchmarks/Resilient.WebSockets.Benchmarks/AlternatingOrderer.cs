using System.Collections.Immutable;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Order;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>
/// Runs the contestants of each parameter set in turn, and in the opposite order for the next set (Raw first, then
/// last, ...), so that no contestant always runs first on a cold machine or last on a warm one. BenchmarkDotNet runs
/// each case's iterations together, so this is the finest alternation it allows; compare ratios within a run.
/// </summary>
public sealed class AlternatingOrderer : IOrderer
{
    private static readonly IOrderer Default = DefaultOrderer.Instance;

    public bool SeparateLogicalGroups => Default.SeparateLogicalGroups;

    public IEnumerable<BenchmarkCase> GetExecutionOrder(ImmutableArray<BenchmarkCase> benchmarksCase, IEnumerable<BenchmarkLogicalGroupRule>? order = null) =>
        benchmarksCase
            .GroupBy(c => c.Parameters.DisplayInfo)
            .SelectMany((group, index) => index % 2 == 0
                ? group.OrderBy(c => c.Descriptor.MethodIndex)
                : group.OrderByDescending(c => c.Descriptor.MethodIndex));

    public IEnumerable<BenchmarkCase> GetSummaryOrder(ImmutableArray<BenchmarkCase> benchmarksCases, Summary summary) =>
        Default.GetSummaryOrder(benchmarksCases, summary);

    public string? GetHighlightGroupKey(BenchmarkCase benchmarkCase) => Default.GetHighlightGroupKey(benchmarkCase);

    public string? GetLogicalGroupKey(ImmutableArray<BenchmarkCase> allBenchmarksCases, BenchmarkCase benchmarkCase) =>
        Default.GetLogicalGroupKey(allBenchmarksCases, benchmarkCase);

    public IEnumerable<IGrouping<string, BenchmarkCase>> GetLogicalGroupOrder(IEnumerable<IGrouping<string, BenchmarkCase>> logicalGroups, IEnumerable<BenchmarkLogicalGroupRule>? order = null) =>
        Default.GetLogicalGroupOrder(logicalGroups, order);
}
