namespace Resilient.WebSockets.Delivery;

/// <summary>A client's side of the envelope: who it is, and the numbers of its reliable messages and requests, which
/// only grow (they start at the current time in milliseconds times 1 000, so a restart never reuses one).</summary>
internal sealed class EnvelopeState(EnvelopeOptions options, TimeProvider time)
{
    private long _next = time.GetUtcNow().ToUnixTimeMilliseconds() * 1000;

    public string ClientId { get; } = options.ClientId ?? Guid.NewGuid().ToString("N");

    public string NextId() => Interlocked.Increment(ref _next).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public byte[] Hello() => EnvelopeCodec.Hello(ClientId, Volatile.Read(ref _next) + 1);
}
