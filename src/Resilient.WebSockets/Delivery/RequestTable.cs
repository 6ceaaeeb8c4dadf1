using System.Net.WebSockets;

namespace Resilient.WebSockets.Delivery;

/// <summary>
/// The requests waiting for their responses (<see cref="RequestOptions"/>), by correlation id. A request is registered
/// before its message is sent, so a fast response is never missed; it ends with its response, its timeout, its caller's
/// cancellation, a lost session (<see cref="RequestDisconnectMode.Fail"/>) or dispose.
/// </summary>
internal sealed class RequestTable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);
    private readonly RequestOptions _options;
    private readonly TimeProvider _time;
    private bool _closed;

    public RequestTable(RequestOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public RequestDisconnectMode OnDisconnect => _options.OnDisconnect;

    /// <summary>Registers a request; its timeout starts now.</summary>
    /// <exception cref="ArgumentException">A request with the same id is waiting.</exception>
    public PendingRequest Register(string correlationId, TimeSpan? timeout, Func<Task> resend, CancellationToken cancellationToken)
    {
        var wait = timeout ?? _options.Timeout;
        var request = new PendingRequest(this, correlationId, wait, resend);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_closed, typeof(ReconnectingWebSocket));
            if (!_pending.TryAdd(correlationId, request))
            {
                throw new ArgumentException(SR.Format(SR.RequestDuplicateId, correlationId), nameof(correlationId));
            }
        }

        request.Start(_time, cancellationToken);
        return request;
    }

    /// <summary>Hands <paramref name="message"/> to the request it answers; false when none waits for it.</summary>
    public bool TryComplete(string correlationId, WebSocketMessage message)
    {
        PendingRequest? request;
        lock (_gate)
        {
            if (!_pending.Remove(correlationId, out request))
            {
                return false;
            }
        }

        return request.Response.TrySetResult(message);
    }

    /// <summary>A session ended: every request written on it and not answered fails, or is written again, by option.</summary>
    public void OnSessionLost()
    {
        List<PendingRequest> written;
        lock (_gate)
        {
            written = _pending.Values.Where(r => r.WasWritten).ToList();
            if (_options.OnDisconnect == RequestDisconnectMode.Fail)
            {
                foreach (var request in written)
                {
                    _pending.Remove(request.CorrelationId);
                }
            }
        }

        foreach (var request in written)
        {
            if (_options.OnDisconnect == RequestDisconnectMode.Fail)
            {
                request.Response.TrySetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, SR.Format(SR.RequestSessionLost, request.CorrelationId)));
            }
            else
            {
                request.Resend();
            }
        }
    }

    public void Close()
    {
        List<PendingRequest> left;
        lock (_gate)
        {
            _closed = true;
            left = [.. _pending.Values];
            _pending.Clear();
        }

        foreach (var request in left)
        {
            request.Response.TrySetException(new ObjectDisposedException(typeof(ReconnectingWebSocket).FullName));
        }
    }

    internal void Remove(PendingRequest request)
    {
        lock (_gate)
        {
            if (_pending.TryGetValue(request.CorrelationId, out var current) && ReferenceEquals(current, request))
            {
                _pending.Remove(request.CorrelationId);
            }
        }
    }
}

/// <summary>One request waiting for its response.</summary>
internal sealed class PendingRequest(RequestTable table, string correlationId, TimeSpan timeout, Func<Task> resend) : IDisposable
{
    private CancellationTokenSource? _timeout;
    private CancellationTokenRegistration _cancellation;
    private Task _send = Task.CompletedTask;
    private bool _sent;

    public string CorrelationId { get; } = correlationId;

    public TaskCompletionSource<WebSocketMessage> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Its latest write completed (so a lost session may have swallowed it).</summary>
    public bool WasWritten => _sent && _send.IsCompletedSuccessfully;

    public void Start(TimeProvider time, CancellationToken cancellationToken)
    {
        _timeout = new CancellationTokenSource(Timeout, time);
        _timeout.Token.UnsafeRegister(static state =>
        {
            var request = (PendingRequest)state!;
            if (request.Response.TrySetException(new TimeoutException(SR.Format(SR.RequestTimedOut, request.CorrelationId, Describe.Duration(request.Timeout)))))
            {
                request.Table.Remove(request);
            }
        }, this);
        _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var request = (PendingRequest)state!;
            if (request.Response.TrySetCanceled(token))
            {
                request.Table.Remove(request);
            }
        }, this);
    }

    public TimeSpan Timeout { get; } = timeout;

    private RequestTable Table { get; } = table;

    /// <summary>The send that carries the request: its failure fails the request.</summary>
    public void Track(Task send)
    {
        _send = send;
        _sent = true;
        _ = send.ContinueWith(static (task, state) =>
        {
            var request = (PendingRequest)state!;
            if (!task.IsCompletedSuccessfully && request.Response.TrySetException(task.Exception?.InnerException ?? new OperationCanceledException()))
            {
                request.Table.Remove(request);
            }
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public void Resend() => Track(resend());

    public void Dispose()
    {
        _timeout?.Dispose();
        _cancellation.Dispose();
    }
}
