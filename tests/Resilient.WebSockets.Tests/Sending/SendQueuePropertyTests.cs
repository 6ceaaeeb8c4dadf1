using System.Net.WebSockets;
using CsCheck;
using Resilient.WebSockets.Sending;
using Resilient.WebSockets.Tests.Infrastructure;

namespace Resilient.WebSockets.Tests.Sending;

/// <summary>
/// The send queue under random sequences of sends (with and without a completion, cancellable or not), withdrawals,
/// takes whose write succeeds or fails (the message goes back to the front, as on a lost session), clears and a final
/// close, in every full mode and at small capacities: exactly-once accounting, order, the capacity bound, and tasks that
/// end the way the message did. The sequences come from CsCheck's generators on a fixed seed, so every run tests the
/// same 2 000 scenarios (tests here are deterministic); a failure names the scenario. CsCheck 5 targets net10 only, so
/// this test runs on net10 (the queue's code is the same on net8).
/// The bound is the capacity plus the messages whose write failed and that wait, first in line, for the next session:
/// they left the queue's capacity when they were taken (a batch in flight, at most
/// <see cref="CoalescingStream.MaxBatchMessages"/>), and the queue takes new messages meanwhile.
/// </summary>
public class SendQueuePropertyTests
{
    private enum Kind
    {
        Send,
        SendAwaitable,
        SendCancellable,
        Withdraw,
        TakeAndWrite,
        TakeAndFail,
        Clear,
    }

    private readonly record struct Op(Kind Kind, int Argument);

    private static readonly Gen<Op> Ops = Gen.Select(Gen.Enum<Kind>(), Gen.Int[0, 7], (kind, argument) => new Op(kind, argument));

    private static readonly Gen<(SendQueueFullMode Mode, int Capacity, Op[] Ops)> Scenarios =
        Gen.Select(Gen.Enum<SendQueueFullMode>(), Gen.Int[1, 6], Ops.Array[0, 80], (mode, capacity, ops) => (mode, capacity, ops));

    [Fact]
    public void RandomSequences_EveryAcceptedMessageLeavesOnceInOrderAndTheBoundHolds()
    {
        var pcg = new PCG(stream: 1, seed: 20261202);
        for (int i = 0; i < 2_000; i++)
        {
            var (mode, capacity, ops) = Scenarios.Generate(pcg, null, out _);
            try
            {
                Run(mode, capacity, ops);
            }
            catch (Exception ex)
            {
                throw new InvalidOperationException(
                    $"Scenario {i} failed: {mode}, capacity {capacity}, [{string.Join(", ", ops.Select(o => $"{o.Kind}({o.Argument})"))}]", ex);
            }
        }
    }

    private static void Run(SendQueueFullMode mode, int capacity, Op[] ops)
    {
        var model = new Model();
        var queue = new SendQueue(new SendQueueOptions { Capacity = capacity, FullMode = mode }, new TestTimeProvider(), model.OnDropped);
        var sends = new List<(int Id, PendingSend Completion, CancellationTokenSource? Cancel)>();

        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case Kind.Send:
                    bool hasRoom = model.HasRoom(mode, capacity);
                    bool enqueued = queue.TryEnqueue(model.Next(completion: null));
                    Assert.True(hasRoom == enqueued, $"TryEnqueue returned {enqueued} with {model.Queued} of {capacity} queued in {mode}");
                    model.Offer(enqueued);
                    break;
                case Kind.SendAwaitable or Kind.SendCancellable:
                    var completion = new PendingSend();
                    var cancel = new CancellationTokenSource(); // ends a wait for room; withdraws, for a cancellable send
                    var message = model.Next(completion);
                    bool room = model.HasRoom(mode, capacity);
                    var enqueue = queue.EnqueueAsync(message, cancel.Token);
                    Assert.True(enqueue.IsCompleted || (mode == SendQueueFullMode.Wait && !room),
                        $"EnqueueAsync waits with {model.Queued} of {capacity} queued in {mode}");
                    Assert.True(room == enqueue.IsCompletedSuccessfully, $"EnqueueAsync accepted: {enqueue.IsCompletedSuccessfully}, with {model.Queued} of {capacity} queued in {mode}");
                    if (!enqueue.IsCompleted)
                    {
                        // Full in Wait mode: this caller gives up waiting (the model never blocks). Nothing was accepted,
                        // and nothing is reported: the caller has its cancellation.
                        var waiting = enqueue.AsTask();
                        cancel.Cancel();
                        Assert.True(((IAsyncResult)waiting).AsyncWaitHandle.WaitOne(Testing.ClientProbe.DefaultTimeout)); // ends on the pool
                        Assert.True(waiting.IsCanceled);
                        model.GaveUp();
                        break;
                    }

                    bool accepted = enqueue.IsCompletedSuccessfully;
                    if (!accepted)
                    {
                        Assert.IsType<MessageDroppedException>(enqueue.AsTask().Exception!.InnerException); // Fail mode
                    }

                    model.Offer(accepted);
                    sends.Add((MessageIds.Of(message), completion, op.Kind == Kind.SendCancellable ? cancel : null));
                    break;
                case Kind.Withdraw:
                    var cancellable = sends.Where(s => s.Cancel is not null).ToList();
                    if (cancellable.Count > 0)
                    {
                        var (id, pending, source) = cancellable[op.Argument % cancellable.Count];
                        source!.Cancel();
                        if (pending.Task.IsCanceled)
                        {
                            model.MarkWithdrawn(id); // it was still queued (once; a later cancel changes nothing)
                        }
                    }

                    break;
                case Kind.TakeAndWrite or Kind.TakeAndFail:
                    for (int i = 0; i <= op.Argument % 3 && queue.TryTake(out var taken); i++)
                    {
                        model.Taken(MessageIds.Of(taken));
                        if (op.Kind == Kind.TakeAndWrite)
                        {
                            model.Written(MessageIds.Of(taken));
                            queue.MarkWritten(taken);
                        }
                        else
                        {
                            queue.Requeue(taken); // the session was lost while writing it
                            model.Requeued(MessageIds.Of(taken));
                            break;
                        }
                    }

                    break;
                case Kind.Clear:
                    queue.Clear(DropReason.Cleared);
                    break;
            }

            Assert.Equal(model.Pending, queue.Count);
            Assert.InRange(queue.Count, 0, capacity + model.WaitingForRetry);
        }

        queue.Close(DropReason.Disposed);

        // Every accepted message left exactly once, and the written ones in the order they were accepted.
        Assert.Equal(0, queue.Count);
        model.AssertSettled();
        foreach (var (id, pending, _) in sends)
        {
            model.AssertTask(id, pending.Task);
        }
    }

    /// <summary>Message ids travel as the payload's first four bytes.</summary>
    private static class MessageIds
    {
        public static OutgoingMessage Create(int id, PendingSend? completion) =>
            new(BitConverter.GetBytes(id), WebSocketMessageType.Binary, rentedBuffer: null, completion);

        public static int Of(in OutgoingMessage message) => BitConverter.ToInt32(message.Data.Span);
    }

    /// <summary>What happened to each message, as the queue reported it.</summary>
    private sealed class Model
    {
        private readonly Dictionary<int, string> _fate = [];
        private readonly HashSet<int> _accepted = [];
        private readonly List<int> _written = [];
        private readonly HashSet<int> _retry = [];
        private readonly HashSet<int> _queued = [];
        private int _next;
        private int _last = -1;

        public int Pending { get; private set; }

        /// <summary>Messages whose write failed, not taken again yet.</summary>
        public int WaitingForRetry => _retry.Count;

        /// <summary>Accepted messages waiting in the queue proper (not taken, not back for a retry, not settled): what the capacity bounds.</summary>
        public int Queued => _queued.Count;

        /// <summary>Whether the queue must take one more message now: there is room, or a drop mode makes room.</summary>
        public bool HasRoom(SendQueueFullMode mode, int capacity) =>
            _queued.Count < capacity || mode is SendQueueFullMode.DropOldest or SendQueueFullMode.DropNewest;

        public void Taken(int id)
        {
            _retry.Remove(id);
            _queued.Remove(id);
        }

        public void Requeued(int id)
        {
            if (_fate.ContainsKey(id))
            {
                return; // closed meanwhile: reported at once
            }

            _retry.Add(id);
        }

        public OutgoingMessage Next(PendingSend? completion) => MessageIds.Create(_last = _next++, completion);

        public void GaveUp() => _fate[_last] = "gave up";

        public void Offer(bool accepted)
        {
            if (accepted)
            {
                _accepted.Add(_last);
                _queued.Add(_last);
                Pending++;
            }
            else
            {
                // A refusal is reported (QueueFull) and never counted in.
                Assert.True(_fate.TryGetValue(_last, out var fate) && fate == "dropped:QueueFull", $"refused message {_last} was not reported as QueueFull");
                _fate[_last] = "refused";
            }
        }

        public void OnDropped(OutgoingMessage message, DropReason reason)
        {
            int id = MessageIds.Of(message);
            Assert.False(_fate.ContainsKey(id), $"message {id} reported twice (was {(_fate.TryGetValue(id, out var f) ? f : "")}, now dropped:{reason})");
            _fate[id] = $"dropped:{reason}";
            _retry.Remove(id);
            _queued.Remove(id);
            if (_accepted.Contains(id) || id != _last)
            {
                Pending--; // an accepted message (evicted, cleared, disposed); a refusal is reported before Offer counts it
            }
        }

        public void MarkWithdrawn(int id)
        {
            if (!_fate.ContainsKey(id) && _accepted.Contains(id))
            {
                _fate[id] = "withdrawn";
                _retry.Remove(id);
                _queued.Remove(id); // its room is free at once
                Pending--;
            }
        }

        public void Written(int id)
        {
            Assert.True(_accepted.Contains(id), $"message {id} was written without being accepted");
            Assert.False(_fate.ContainsKey(id), $"message {id} written after it was {(_fate.TryGetValue(id, out var f) ? f : "")}");
            if (_written.Count > 0)
            {
                Assert.True(_written[^1] < id, $"message {id} written after {_written[^1]}: out of order");
            }

            _fate[id] = "written";
            _written.Add(id);
            Pending--;
        }

        public void AssertSettled()
        {
            Assert.Equal(0, Pending);
            foreach (int id in _accepted)
            {
                Assert.True(_fate.ContainsKey(id), $"accepted message {id} was neither written, withdrawn nor reported");
            }
        }

        public void AssertTask(int id, Task task)
        {
            switch (_fate[id])
            {
                case "written":
                    Assert.True(task.IsCompletedSuccessfully, $"message {id} was written but its task is {task.Status}");
                    break;
                case "withdrawn":
                    Assert.True(task.IsCanceled, $"message {id} was withdrawn but its task is {task.Status}");
                    break;
                case "refused" or "gave up":
                    break; // the caller got the refusal itself (false, the exception, or its own cancellation)
                default:
                    Assert.True(task.IsFaulted, $"message {id} was {_fate[id]} but its task is {task.Status}");
                    var dropped = Assert.IsType<MessageDroppedException>(task.Exception!.InnerException);
                    Assert.Equal(_fate[id], $"dropped:{dropped.Reason}");
                    break;
            }
        }
    }
}
