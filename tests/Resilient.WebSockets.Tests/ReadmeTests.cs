using System.Text.RegularExpressions;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>The README's C# blocks must compile: each one stands, word for word, in ReadmeSnippets.cs, which is built with the tests.</summary>
public partial class ReadmeTests
{
    private static string Normalize(string code) => WhiteSpace().Replace(code, " ").Trim();

    [Fact]
    public void Readme_EveryCSharpBlock_IsInTheCompiledSnippets()
    {
        var readme = Repository.ReadAllText("README.md");
        var snippets = Normalize(Repository.ReadAllText("tests/Resilient.WebSockets.Tests/ReadmeSnippets.cs"));

        var blocks = CSharpBlock().Matches(readme).Select(m => m.Groups[1].Value).ToList();

        Assert.True(blocks.Count >= 3, "the README should show its quickstart, Rx and OnConnected examples");
        Assert.All(blocks, block => Assert.True(snippets.Contains(Normalize(StripUsings(block)), StringComparison.Ordinal), $"README block not in ReadmeSnippets.cs:\n{block}"));
    }

    /// <summary>Using directives sit at the top of the snippets file, not inside its methods.</summary>
    private static string StripUsings(string block) =>
        string.Join('\n', block.Split('\n').Where(line => !line.TrimStart().StartsWith("using ", StringComparison.Ordinal) || line.Contains('=', StringComparison.Ordinal)));

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhiteSpace();
}
