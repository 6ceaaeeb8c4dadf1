using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Attributes;

namespace Resilient.WebSockets.Benchmarks;

public sealed record Tick(string Symbol, decimal Price, string Note);

[JsonSerializable(typeof(Tick))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
public sealed partial class BenchJson : JsonSerializerContext;

/// <summary>
/// Typed JSON receive: the server pushes N JSON objects ({"symbol":"MSFT","price":123.45,"note":"x..."}) as fast as a
/// socket takes them; each contestant turns every message into a <see cref="Tick"/>. The baseline is what a user writes
/// by hand (<c>JsonSerializer.Deserialize(message.Text, typeInfo)</c> in the observer); <see cref="JsonOperator"/> is
/// <c>Messages.Json(typeInfo)</c>. One operation = one connection's N messages.
/// </summary>
[MemoryDiagnoser]
public class JsonReceiveBenchmarks : ServerBenchmarks
{
    [Params(64, 1024)]
    public int Size { get; set; }

    private int Count => Size == 64 ? 100_000 : 50_000;

    private Uri Push => Server.Url($"/push?n={Count}&size={Size}&json=1");

    [Benchmark(Baseline = true)]
    public Task<decimal> HandWritten() => ReceiveAsync(client => new Subscriber<WebSocketMessage>(client.Messages, m => JsonSerializer.Deserialize(m.Text, BenchJson.Default.Tick)!));

    [Benchmark]
    public Task<decimal> JsonOperator() => ReceiveAsync(client => new Subscriber<Tick>(client.Messages.Json(BenchJson.Default.Tick), t => t));

    private async Task<decimal> ReceiveAsync(Func<ReconnectingWebSocket, ISubscriber> subscribe)
    {
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Push });
        var subscriber = subscribe(client);
        using var subscription = subscriber.Start(Count);
        await client.StartAsync();
        return await subscriber.Done;
    }

    private interface ISubscriber
    {
        Task<decimal> Done { get; }

        IDisposable Start(int count);
    }

    /// <summary>Sums the prices of <c>count</c> ticks, then completes <see cref="Done"/>.</summary>
    private sealed class Subscriber<T>(IObservable<T> source, Func<T, Tick> read) : ISubscriber, IObserver<T>
    {
        private readonly TaskCompletionSource<decimal> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _left;
        private decimal _sum;

        public Task<decimal> Done => _done.Task;

        public IDisposable Start(int count)
        {
            _left = count;
            return source.Subscribe(this);
        }

        public void OnNext(T value)
        {
            _sum += read(value).Price;
            if (--_left == 0)
            {
                _done.TrySetResult(_sum);
            }
        }

        public void OnError(Exception error) => _done.TrySetException(error);

        public void OnCompleted()
        {
        }
    }
}

/// <summary>
/// Typed JSON send: the app hands N <see cref="Tick"/> values to the client; the operation ends when the server has
/// counted all N. The baseline is what a user writes by hand (<c>JsonSerializer.Serialize(tick, typeInfo)</c> to a
/// string, then <c>SendAsync(string)</c>/<c>TryEnqueue(string)</c>); <see cref="SendJson"/> is
/// <c>SendJsonAsync</c>/<c>TryEnqueueJson</c>, serializing into a pooled UTF-8 buffer.
/// </summary>
[MemoryDiagnoser]
public class JsonSendBenchmarks : ServerBenchmarks
{
    private Tick _tick = null!;

    [Params(64, 1024)]
    public int Size { get; set; }

    [Params(SendPattern.Awaited, SendPattern.Burst)]
    public SendPattern Pattern { get; set; }

    private int Count => Size == 64 ? 100_000 : 50_000;

    private Uri Sink => Server.Url($"/sink?n={Count}");

    public override void Setup()
    {
        base.Setup();
        _tick = new Tick("MSFT", 123.45m, new string('x', Size - 42)); // the same size as the pushed ones
    }

    [Benchmark(Baseline = true)]
    public Task HandWritten() => SendAsync(
        (client, tick) => client.SendAsync(JsonSerializer.Serialize(tick, BenchJson.Default.Tick)),
        (client, tick) => client.TryEnqueue(JsonSerializer.Serialize(tick, BenchJson.Default.Tick)));

    [Benchmark]
    public Task SendJson() => SendAsync(
        (client, tick) => client.SendJsonAsync(tick, BenchJson.Default.Tick),
        (client, tick) => client.TryEnqueueJson(tick, BenchJson.Default.Tick));

    private async Task SendAsync(Func<ReconnectingWebSocket, Tick, ValueTask> send, Func<ReconnectingWebSocket, Tick, bool> tryEnqueue)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = Sink });
        using var subscription = client.Messages.Subscribe(new Counter(_ => done.TrySetResult()));
        await client.StartAsync();
        for (int i = 0; i < Count; i++)
        {
            if (Pattern == SendPattern.Awaited || !tryEnqueue(client, _tick))
            {
                await send(client, _tick);
            }
        }

        await done.Task;
    }
}
