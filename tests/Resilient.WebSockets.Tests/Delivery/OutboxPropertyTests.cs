using System.Net.WebSockets;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Delivery;
using Resilient.WebSockets.Internal;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>
/// The outbox under random sequences of accepts (some refused by a full outbox, by count or bytes), sessions that start
/// and end, takes whose write succeeds or fails, acks, rejections, ack timeouts (the fake clock moves) and a final
/// dispose, at small capacities, in-flight limits and attempt limits: every accepted message ends exactly once and the
/// way the model says (acknowledged, rejected, given up after its attempts, or dropped at dispose); the send loop is
/// always handed the oldest due message; the capacity, byte and in-flight bounds hold after every step. Fixed seed,
/// 2 000 scenarios; a failure names its scenario.
/// </summary>
public class OutboxPropertyTests
{
    private static readonly TimeSpan AckTimeout = TimeSpan.FromSeconds(5);

    private enum Kind
    {
        Accept,
        StartSession,
        EndSession,
        TakeAndWrite,
        TakeAndFail,
        Ack,
        Reject,
        AckTimeout,
    }

    private readonly record struct Op(Kind Kind, int Argument);

    private static readonly Gen<Op> Ops = Gen.Select(Gen.Enum<Kind>(), Gen.Int[0, 9], (kind, argument) => new Op(kind, argument));

    private static readonly Gen<(int Capacity, int MaxBytes, int MaxInFlight, int MaxAttempts, Op[] Ops)> Scenarios =
        Gen.Select(Gen.Int[1, 5], Gen.Int[4, 30], Gen.Int[1, 5], Gen.Int[1, 3], Ops.Array[0, 80], (c, b, f, a, ops) => (c, b, Math.Min(f, c), a, ops));

    [Fact]
    public void RandomSequences_EveryAcceptedMessageEndsOnceAsTheModelSays_AndTheBoundsHold()
    {
        var pcg = new PCG(stream: 2, seed: 20261202);
        for (int i = 0; i < 2_000; i++)
        {
            var scenario = Scenarios.Generate(pcg, null, out _);
            try
            {
                Run(scenario.Capacity, scenario.MaxBytes, scenario.MaxInFlight, scenario.MaxAttempts, scenario.Ops);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Scenario {i} failed: capacity {scenario.Capacity}, bytes {scenario.MaxBytes}, in flight {scenario.MaxInFlight}, attempts {scenario.MaxAttempts}, [{string.Join(", ", scenario.Ops.Select(o => $"{o.Kind}({o.Argument})"))}]", ex);
            }
        }
    }

    private static void Run(int capacity, int maxBytes, int maxInFlight, int maxAttempts, Op[] ops)
    {
        var time = new TestTimeProvider();
        var pump = new EventPump();
        var acknowledged = new EventStream<AcknowledgedMessage>(pump, ex => throw ex);
        var dropped = new EventStream<DroppedMessage>(pump, ex => throw ex);
        var drops = new List<DroppedMessage>();
        dropped.Subscribe(new Testing.Recorder<DroppedMessage>(d => { lock (drops) { drops.Add(d); } }));
        var options = new DeliveryOptions { ReadAck = _ => null, Capacity = capacity, MaxBytes = maxBytes, FullMode = OutboxFullMode.Fail, MaxInFlight = maxInFlight, MaxAttempts = maxAttempts, AckTimeout = AckTimeout };
        using var sut = new Outbox(options, time, acknowledged, dropped, () => { }, NullLogger.Instance, "test");
        var model = new Model(capacity, maxBytes, maxInFlight, maxAttempts);
        var outcomes = new Dictionary<string, Task>();
        int next = 0;

        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case Kind.Accept:
                    string id = $"m{next++}";
                    var data = new byte[1 + (op.Argument * 3 % 12)];
                    bool fits = model.Fits(data.Length);
                    var accept = sut.AcceptAsync(id, WebSocketMessageType.Binary, data, trackOutcome: true, CancellationToken.None).AsTask();
                    Assert.True(accept.IsCompleted, "accept waited (no store, Fail mode: it must not)");
                    Assert.True(fits == accept.IsCompletedSuccessfully, $"accept of {data.Length} bytes: {accept.IsCompletedSuccessfully}, model says {fits}");
                    if (fits)
                    {
                        outcomes[id] = accept.Result.Outcome!.Task;
                        model.Accept(id, data.Length);
                    }

                    break;
                case Kind.StartSession:
                    sut.OnSessionStarted();
                    model.StartSession();
                    break;
                case Kind.EndSession:
                    sut.OnSessionEnded();
                    model.EndSession();
                    break;
                case Kind.TakeAndWrite or Kind.TakeAndFail:
                    var taken = new List<ReliableMessage>();
                    for (int i = 0; i <= op.Argument % 3; i++)
                    {
                        bool got = sut.TryTake(out var message);
                        var expected = model.Take();
                        Assert.Equal(expected, got ? message.Id : null);
                        if (!got)
                        {
                            break;
                        }

                        taken.Add(message);
                    }

                    foreach (var message in taken)
                    {
                        if (op.Kind == Kind.TakeAndWrite)
                        {
                            sut.OnWritten(message);
                            model.Written(message.Id);
                        }
                        else
                        {
                            sut.OnWriteFailed(message);
                            model.WriteFailed(message.Id);
                        }
                    }

                    if (op.Kind == Kind.TakeAndFail && taken.Count > 0)
                    {
                        sut.OnSessionEnded(); // a failed write ends the session
                        model.EndSession();
                    }

                    break;
                case Kind.Ack or Kind.Reject:
                    if (model.Pick(op.Argument) is { } target)
                    {
                        bool settled = sut.Acknowledge(op.Kind == Kind.Ack ? MessageAck.Accepted(target) : MessageAck.Rejected(target, "no"));
                        Assert.True(settled, $"ack of {target} found nothing");
                        model.Settle(target, op.Kind == Kind.Ack ? "acknowledged" : "dropped:Rejected");
                    }

                    Assert.False(sut.Acknowledge(MessageAck.Accepted("unknown")));
                    break;
                case Kind.AckTimeout:
                    time.Advance(AckTimeout);
                    model.AckTimeout();
                    break;
            }

            Assert.Equal(model.Held, sut.Count);
            Assert.InRange(model.Held, 0, capacity);
        }

        sut.Close();
        model.Close();
        pump.WhenDelivered().Wait(Testing.ClientProbe.DefaultTimeout);

        foreach (var (id, outcome) in outcomes)
        {
            string fate = model.Fate(id);
            if (fate == "acknowledged")
            {
                Assert.True(outcome.IsCompletedSuccessfully, $"{id} was acknowledged but its send is {outcome.Status}");
                Assert.DoesNotContain(drops, d => d.MessageId == id);
                continue;
            }

            Assert.True(outcome.IsFaulted, $"{id} was {fate} but its send is {outcome.Status}");
            var exception = Assert.IsType<MessageDroppedException>(outcome.Exception!.InnerException);
            Assert.Equal(fate, $"dropped:{exception.Reason}");
            var report = Assert.Single(drops, d => d.MessageId == id);
            Assert.Equal(exception.Reason, report.Reason);
        }
    }

    /// <summary>What the outbox should do, written plainly.</summary>
    private sealed class Model(int capacity, int maxBytes, int maxInFlight, int maxAttempts)
    {
        private readonly List<Entry> _entries = []; // acceptance order
        private readonly Dictionary<string, string> _fates = [];
        private bool _connected;

        public int Held => _entries.Count;

        private int InFlight => _entries.Count(e => e.State is "writing" or "inflight");

        public bool Fits(int length) => _entries.Count < capacity && _entries.Sum(e => e.Length) + length <= maxBytes;

        public void Accept(string id, int length) => _entries.Add(new Entry(id, length));

        public void StartSession()
        {
            _connected = true;
            foreach (var entry in _entries)
            {
                entry.State = "due"; // every unacknowledged message, in acceptance order
            }
        }

        public void EndSession() => _connected = false;

        /// <summary>The id the send loop must get now, or null; gives up those whose attempts are spent on the way.</summary>
        public string? Take()
        {
            while (_connected && InFlight < maxInFlight && _entries.FirstOrDefault(e => e.State == "due") is { } oldest)
            {
                if (oldest.Attempts >= maxAttempts)
                {
                    Settle(oldest.Id, "dropped:NotAcknowledged");
                    continue;
                }

                oldest.Attempts++;
                oldest.State = "writing";
                return oldest.Id;
            }

            return null;
        }

        public void Written(string id)
        {
            if (Find(id) is { State: "writing" } entry && _connected)
            {
                entry.State = "inflight";
            }
        }

        public void WriteFailed(string id)
        {
            if (Find(id) is { State: "writing" } entry)
            {
                entry.State = "due";
            }
        }

        public string? Pick(int argument) => _entries.Count == 0 ? null : _entries[argument % _entries.Count].Id;

        public void Settle(string id, string fate)
        {
            _entries.Remove(Find(id)!);
            Assert.True(_fates.TryAdd(id, fate), $"{id} ended twice");
        }

        /// <summary>The clock moved one ack timeout: while connected, every message in flight is due again, or given up.</summary>
        public void AckTimeout()
        {
            if (!_connected)
            {
                return;
            }

            foreach (var entry in _entries.Where(e => e.State == "inflight").ToList())
            {
                if (entry.Attempts >= maxAttempts)
                {
                    Settle(entry.Id, "dropped:NotAcknowledged");
                }
                else
                {
                    entry.State = "due";
                }
            }
        }

        public void Close()
        {
            foreach (var entry in _entries.ToList())
            {
                Settle(entry.Id, "dropped:Disposed");
            }
        }

        public string Fate(string id) => _fates[id];

        private Entry? Find(string id) => _entries.Find(e => e.Id == id);

        private sealed class Entry(string id, int length)
        {
            public string Id { get; } = id;

            public int Length { get; } = length;

            public string State { get; set; } = "due";

            public int Attempts { get; set; }
        }
    }
}
