namespace Resilient.WebSockets.Testing;

/// <summary>Files of the repository the tests run in (found by walking up to the solution file).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string ReadAllText(string relativePath) => File.ReadAllText(Path.Combine(Root, relativePath));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Resilient.WebSockets.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The tests must run inside the repository.");
    }
}
