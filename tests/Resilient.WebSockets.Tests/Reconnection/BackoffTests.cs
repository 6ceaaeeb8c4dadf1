using Resilient.WebSockets.Reconnection;

namespace Resilient.WebSockets.Tests.Reconnection;

public class BackoffTests
{
    private static Backoff CreateSut(bool jitter, Func<double>? random = null) => new(new ReconnectOptions
    {
        InitialDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(30),
        UseJitter = jitter,
    }, random);

    [Fact]
    public void GetDelay_NoJitter_DoublesUntilTheCapHolds()
    {
        var sut = CreateSut(jitter: false);

        var delays = Enumerable.Range(0, 8).Select(i => sut.GetDelay(i).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 16, 30, 30, 30], delays);
    }

    [Fact]
    public void GetDelay_HugeStep_StaysAtTheCap()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), CreateSut(jitter: false).GetDelay(int.MaxValue));
    }

    [Theory]
    [InlineData(0.0, 0.8)]
    [InlineData(0.5, 1.0)]
    [InlineData(0.999999, 1.2)]
    public void GetDelay_Jitter_SpreadsByTwentyPercent(double random, double factor)
    {
        var sut = CreateSut(jitter: true, () => random);

        Assert.Equal(2 * factor, sut.GetDelay(1).TotalSeconds, precision: 3);
    }

    [Fact]
    public void GetDelay_JitterAtTheCap_NeverExceedsIt()
    {
        var sut = CreateSut(jitter: true);

        var delays = Enumerable.Range(0, 2000).Select(_ => sut.GetDelay(10)).ToList();

        Assert.All(delays, d => Assert.InRange(d, TimeSpan.FromSeconds(24), TimeSpan.FromSeconds(30)));
        Assert.True(delays.Distinct().Count() > 100, "jitter must actually vary the delay");
    }

    [Fact]
    public void GetDelay_Jitter_StaysInRangeForEveryStep()
    {
        var sut = CreateSut(jitter: true);

        for (int step = 0; step < 5; step++)
        {
            double nominal = Math.Pow(2, step);
            Assert.All(Enumerable.Range(0, 500), _ => Assert.InRange(sut.GetDelay(step).TotalSeconds, nominal * 0.8, nominal * 1.2));
        }
    }
}
