using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// The one writer of queued messages on a session: drains the send queue through the session's <see cref="IFrameWriter"/>.
/// On a coalescing transport each message is held in the batch, and the batch is written in one write when the queue
/// runs empty or the batch is full; the messages' sends complete only after that write succeeded. When a write fails,
/// the whole unwritten batch goes back to the front of the queue, in order, and the session is told.
/// </summary>
#pragma warning disable CA1001 // The source has no timer and no wait handle: nothing to release, so it is never disposed.
internal sealed class SendLoop
#pragma warning restore CA1001
{
    private readonly SendQueue _queue;
    private readonly Delivery.Outbox? _outbox;
    private readonly IFrameWriter _writer;
    private readonly Action<Exception> _onFailed;
    private readonly ILogger _logger;
    private readonly ClientMetrics? _metrics;
    private readonly string _name;
    private readonly CancellationTokenSource _stopWaiting = new();
    private readonly List<OutgoingMessage> _held = [];
    private volatile bool _stopWriting;
    private Task _loop = Task.CompletedTask;

    public SendLoop(SendQueue queue, Delivery.Outbox? outbox, IFrameWriter writer, Action<Exception> onFailed, ClientMetrics? metrics, ILogger logger, string name)
    {
        _metrics = metrics;
        _queue = queue;
        _outbox = outbox;
        _writer = writer;
        _onFailed = onFailed;
        _logger = logger;
        _name = name;
    }

    /// <summary>Completes when the loop has ended (after a stop, or a failed write).</summary>
    public Task Completion => _loop;

    public void Start() => _loop = Task.Run(RunAsync);

    /// <summary>Ends the loop: with <paramref name="flush"/>, once the queue is empty; otherwise after the write under way.</summary>
    public void Stop(bool flush)
    {
        if (!flush)
        {
            _stopWriting = true;
        }

        // Never disposed (see the class), so a stop after the loop ended is a no-op, not an exception: a session's end
        // stops the loop from several places.
        _stopWaiting.Cancel();
    }

    private async Task RunAsync()
    {
        try
        {
            while (!_stopWriting)
            {
                // Reliable messages due (new, unacknowledged after a reconnect, or past their ack timeout) go first.
                if (_outbox is not null && _outbox.TryTake(out var reliable))
                {
                    if (!await TryWriteAsync(new OutgoingMessage(reliable)).ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (!_queue.TryTake(out var message))
                {
                    if (_held.Count > 0)
                    {
                        if (!await TryFlushAsync().ConfigureAwait(false))
                        {
                            return;
                        }

                        continue;
                    }

                    if (!await WaitForMessagesAsync().ConfigureAwait(false))
                    {
                        return;
                    }

                    continue;
                }

                if (!await TryWriteAsync(message).ConfigureAwait(false))
                {
                    return;
                }
            }

            if (_held.Count > 0)
            {
                await TryFlushAsync().ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A bug here must end the session, not the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RequeueHeld();
            Log.LoopFailed(_logger, _name, ex);
            _onFailed(ex);
        }
    }

    /// <summary>Waits for the queue; false when the loop should end (stopped, or the queue closed).</summary>
    private async ValueTask<bool> WaitForMessagesAsync()
    {
        if (_stopWaiting.IsCancellationRequested)
        {
            return false;
        }

        try
        {
            return await _queue.WaitToReadAsync(_stopWaiting.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping: drain what is left when flushing (the next take), or end.
            return true;
        }
    }

    private async ValueTask<bool> TryWriteAsync(OutgoingMessage message)
    {
        bool hold = _writer.CanHold;
        try
        {
            await _writer.WriteAsync(message.Data, message.MessageType, hold).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed write ends the session; the messages wait for the next one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RequeueHeld();
            Requeue(message);
            Fail(ex);
            return false;
        }

        if (!hold)
        {
            MarkWritten(message);
            return true;
        }

        _held.Add(message);
        return !_writer.BatchFull(_held.Count) || await TryFlushAsync().ConfigureAwait(false);
    }

    /// <summary>Writes the held batch: its sends complete on success; on failure it goes back to the queue and the session ends.</summary>
    private async ValueTask<bool> TryFlushAsync()
    {
        try
        {
            await _writer.FlushAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed write ends the session; the batch waits for the next one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RequeueHeld();
            Fail(ex);
            return false;
        }

        foreach (var message in _held)
        {
            MarkWritten(message);
        }

        _held.Clear();
        return true;
    }

    private void RequeueHeld()
    {
        foreach (var message in _held)
        {
            Requeue(message);
        }

        _held.Clear();
    }

    private void MarkWritten(in OutgoingMessage message)
    {
        _metrics?.Sent(message.MessageType, message.Data.Length);
        if (message.Reliable is { } reliable)
        {
            if (reliable.Attempts > 1)
            {
                _metrics?.Resent(1); // its attempts are counted when the send loop takes it, on this thread
            }

            _outbox!.OnWritten(reliable);
        }
        else
        {
            _queue.MarkWritten(message);
        }
    }

    private void Requeue(in OutgoingMessage message)
    {
        if (message.Reliable is { } reliable)
        {
            _outbox!.OnWriteFailed(reliable);
        }
        else
        {
            _queue.Requeue(message);
        }
    }

    private void Fail(Exception ex)
    {
        Log.SendFailed(_logger, _name, Describe.Cause(ex));
        _onFailed(ex);
    }
}
