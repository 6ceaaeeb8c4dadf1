using System.Collections.Concurrent;
using System.Diagnostics;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests.Infrastructure;

/// <summary>Runs one of the project's scripts under <c>eng/</c> (an installer of a Debian package a test needs) once per
/// test run, however many tests ask, and fails with its error output when it fails.</summary>
internal static class EngScript
{
    private static readonly ConcurrentDictionary<string, Lazy<Task>> Runs = new();

    public static Task RunOnceAsync(string name) =>
        Runs.GetOrAdd(name, n => new Lazy<Task>(() => RunAsync(n))).Value;

    /// <summary>Runs <c>bash eng/<paramref name="name"/> <paramref name="arguments"/></c> and returns its output.</summary>
    public static async Task<string> RunAsync(string name, params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(Repository.Root, "eng", name));
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        string errors = await script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        if (script.ExitCode != 0)
        {
            throw new InvalidOperationException($"eng/{name} failed ({script.ExitCode}): {errors}");
        }

        return await output;
    }
}
