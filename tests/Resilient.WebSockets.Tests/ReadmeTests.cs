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
        var compilation = Compile(block, $"{file}#{index}", $"Block{index}");

        var errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()).ToList();

        Assert.True(errors.Count == 0, $"block {index} of {file} does not compile as shown:\n{string.Join('\n', errors)}\n---\n{block}");
    }

    /// <summary>A block of tests (an xunit test class) builds as a library, as in a test project; any other as a console app.</summary>
    private static CSharpCompilation Compile(string block, string path, string name)
    {
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        bool tests = block.Contains("[Fact]", StringComparison.Ordinal);
        return CSharpCompilation.Create(
            name,
            [CSharpSyntaxTree.ParseText(block, parse, path: path), CSharpSyntaxTree.ParseText(ConsoleImplicitUsings, parse)],
            References.Value,
            new CSharpCompilationOptions(tests ? OutputKind.DynamicallyLinkedLibrary : OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
    }

    /// <summary>The testing kit's README shows three user tests: each passes, run here as xunit would run it (a new
    /// instance of the class per test, the async test awaited). The package check runs them again from the packed kit.</summary>
    [Fact]
    public async Task KitReadme_ItsThreeTests_Pass()
    {
        string block = Assert.Single(CSharpBlock().Matches(Repository.ReadAllText(KitReadme))).Groups[1].Value;
        using var image = new MemoryStream();
        var emitted = Compile(block, KitReadme, "KitReadmeTests").Emit(image);
        Assert.True(emitted.Success, string.Join('\n', emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));

        var assembly = System.Reflection.Assembly.Load(image.ToArray());
        var tests = assembly.GetTypes()
            .SelectMany(type => type.GetMethods().Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0).Select(m => (type, m)))
            .ToList();
        Assert.Equal(["FlagsPricesAsStaleDuringAnOutage", "ResubscribesAfterADrop", "StopsRetryingAndAsksToSignInAfterA401"], tests.Select(t => t.m.Name).Order());
        foreach (var (type, method) in tests)
        {
            object instance = Activator.CreateInstance(type)!;
            try
            {
                await ((Task)method.Invoke(instance, null)!).WaitAsync(ClientProbe.DefaultTimeout);
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"the kit README's test {method.Name} failed: {ex}");
            }
        }
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

    /// <summary>The testing kit's README: its block is a test class, compiled as a library and run.</summary>
    private const string KitReadme = "src/Resilient.WebSockets.Testing/README.md";

    private static IEnumerable<string> ReadmeFiles() =>
        new[] { "README.md", KitReadme }.Concat(Directory.GetDirectories(Path.Combine(Repository.Root, "samples"))
            .Select(dir => Path.Combine(dir, "README.md"))
            .Where(File.Exists)
            .Select(path => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/')));

    [GeneratedRegex(@"```csharp\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex CSharpBlock();
}
