using Resilient.WebSockets.Receiving;

namespace Resilient.WebSockets.Tests.Infrastructure;

/// <summary>What our own tests need of the testing kit's <see cref="TestTimeProvider"/> beyond what users get.</summary>
public static class TestTimeProviderExtensions
{
    /// <summary>Moves the clock two receive-watchdog ticks on: an observer call under way since before this call has
    /// outlasted the hand-over, so reading moves to a new receive loop.</summary>
    public static void AdvancePastHandOver(this TestTimeProvider time)
    {
        time.Advance(MessageDispatcher.HandOverAfter);
        time.Advance(MessageDispatcher.HandOverAfter);
    }
}
