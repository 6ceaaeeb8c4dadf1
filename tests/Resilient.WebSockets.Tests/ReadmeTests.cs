using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests;

/// <summary>
/// Every C# block of the README and of the samples' READMEs compiles exactly as shown, each on its own: a program made
/// of that block alone, with only the using directives it shows plus the ones a new console app has (the SDK's
/// implicit usings), against the library and its dependencies, as someone who copies it into <c>dotnet new console</c>
/// with the package added would build it.
/// </summary>
public partial class ReadmeTests
{
    /// <summary>What <c>ImplicitUsings</c> gives a console project (Microsoft.NET.Sdk).</summary>
    private const string ConsoleImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly Lazy<MetadataReference[]> References = new(() =>
        ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(path => !Path.GetFileName(path).StartsWith("Resilient.WebSockets.Tests", StringComparison.Ordinal))
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))
            .ToArray());

    public static TheoryData<string, int> Blocks()
    {
        var data = new TheoryData<string, int>();
        foreach (var file in ReadmeFiles())
        {
            int count = CSharpBlock().Count(Repository.ReadAllText(file));
            for (int i = 0; i < count; i++)
            {
                data.Add(file, i);
            }
        }

        return data;
    }

    [Fact]
    public void Readme_ShowsItsExamples()
    {
        Assert.True(CSharpBlock().Count(Repository.ReadAllText("README.md")) >= 4, "the README should show its quickstart, Rx, OnConnected and ShouldRetry examples");
    }

    [Theory]
    [MemberData(nameof(Blocks))]
    public void Block_CompilesOnItsOwn_AsShown(string file, int index)
    {
        string block = CSharpBlock().Matches(Repository.ReadAllText(file))[index].Groups[1].Value;
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var compilation = CSharpCompilation.Create(
            $"Block{index}",
            [CSharpSyntaxTree.ParseText(block, parse, path: $"{file}#{index}"), CSharpSyntaxTree.ParseText(ConsoleImplicitUsings, parse)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));

        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();

        Assert.True(errors.Count == 0, $"block {index} of {file} does not compile as shown:\n{string.Join('\n', errors)}\n---\n{block}");
    }

    [Fact]
    public void Block_ThatDoesNotCompile_IsCaught()
    {
        // The check itself can fail: the Rx block without the using that binds Where/Select to IObservable.
        var compilation = CSharpCompilation.Create(
            "Broken",
            [CSharpSyntaxTree.ParseText("using Resilient.WebSockets;\nvar c = new ReconnectingWebSocket(new Uri(\"ws://x/\"));\nvar s = c.Messages.Where(m => m.Text.Length > 0);"), CSharpSyntaxTree.ParseText(ConsoleImplicitUsings)],
            References.Value,
            new CSharpCompilationOptions(OutputKind.ConsoleApplication));

        Assert.Contains(compilation.GetDiagnostics(), d => d.Severity == DiagnosticSeverity.Error);
    }

    private static IEnumerable<string> ReadmeFiles() =>
        new[] { "README.md" }.Concat(Directory.GetDirectories(Path.Combine(Repository.Root, "samples"))
            .Select(dir => Path.Combine(dir, "README.md"))
            .Where(File.Exists)
            .Select(path => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/')));

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
