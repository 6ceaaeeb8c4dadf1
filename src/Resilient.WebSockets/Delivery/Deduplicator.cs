namespace Resilient.WebSockets.Delivery;

/// <summary>The recent incoming ids (<see cref="DeduplicationOptions"/>): the last <c>Capacity</c> of them, each for at
/// most <c>Window</c>. Used by the receive loop only (one reader at a time), so it takes no lock.</summary>
internal sealed class Deduplicator(DeduplicationOptions options, TimeProvider time)
{
    private readonly Dictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly Queue<(string Id, long At)> _order = new();

    /// <summary>True the first time <paramref name="id"/> is seen within the window; false for a repeat.</summary>
    public bool IsFirst(string id)
    {
        long now = time.GetTimestamp();
        while (_order.TryPeek(out var oldest) && time.GetElapsedTime(oldest.At, now) >= options.Window)
        {
            Forget();
        }

        if (_seen.ContainsKey(id))
        {
            return false;
        }

        if (_order.Count >= options.Capacity)
        {
            Forget();
        }

        _seen[id] = now;
        _order.Enqueue((id, now));
        return true;
    }

    private void Forget()
    {
        var oldest = _order.Dequeue();
        if (_seen.TryGetValue(oldest.Id, out long at) && at == oldest.At)
        {
            _seen.Remove(oldest.Id);
        }
    }
}
