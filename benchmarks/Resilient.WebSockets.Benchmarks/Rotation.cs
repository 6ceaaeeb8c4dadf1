namespace Resilient.WebSockets.Benchmarks;

/// <summary>Every contestant once per round, the order rotating from round to round, so that no contestant always runs
/// first (or last) and pays alone for what the machine was doing then.</summary>
internal static class Rotation
{
    public static async Task RunAsync(int rounds, int contestants, Func<int, Task> measure)
    {
        for (int round = 0; round < rounds; round++)
        {
            for (int k = 0; k < contestants; k++)
            {
                await measure((round + k) % contestants);
            }
        }
    }
}
