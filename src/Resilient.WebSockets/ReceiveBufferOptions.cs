namespace Resilient.WebSockets;

/// <summary>What a full receive buffer does with one more incoming message.</summary>
public enum ReceiveBufferFullMode
{
    /// <summary>Backpressure: the receive loop stops reading until the observers catch up. Nothing is lost, but while it
    /// waits, pongs and close frames are not read either, so observers slower than the keep-alive timeout for that long
    /// end the session (<see cref="DisconnectReason.KeepAliveTimeout"/>).</summary>
    Wait = 0,

    /// <summary>The oldest buffered message is dropped to make room; reading never stops.</summary>
    DropOldest = 1,

    /// <summary>The most recently buffered message is dropped to make room for the new one; reading never stops.</summary>
    DropNewest = 2,
}

/// <summary>The buffer between the socket and the observers of <see cref="ReconnectingWebSocket.Messages"/>, used while
/// the observers are behind.</summary>
/// <remarks>
/// While the observers keep up, the receive loop calls them itself (no hand-over to another thread). When one observer
/// call has run for 100 to 200 ms (a watchdog on <see cref="ReconnectingWebSocketOptions.TimeProvider"/> checks every
/// 100 ms), reading moves to a new receive loop, so pongs and close frames are processed while that observer is busy;
/// what arrives meanwhile goes into this buffer, which the late observer's thread drains, in order, before the receive
/// loop delivers inline again. Every message dropped from a full buffer is reported on
/// <see cref="ReconnectingWebSocket.Dropped"/> (<see cref="MessageDirection.Incoming"/>,
/// <see cref="DropReason.ReceiveBufferFull"/>). The buffer counts messages, so at worst it holds <see cref="Capacity"/>
/// × <see cref="ReconnectingWebSocketOptions.MaxMessageSize"/> bytes. Read when the client is created; later changes
/// have no effect.
/// </remarks>
public sealed class ReceiveBufferOptions
{
    /// <summary>The largest number of received messages waiting for the observers.</summary>
    /// <value>Default: 1 024. Between 1 and 1 048 576.</value>
    public int Capacity { get; set; } = 1024;

    /// <summary>What a full buffer does with one more message.</summary>
    /// <value>Default: <see cref="ReceiveBufferFullMode.Wait"/>.</value>
    public ReceiveBufferFullMode FullMode { get; set; } = ReceiveBufferFullMode.Wait;

    /// <summary>Turns the watchdog and the buffer off: observers always run on the receive loop, and a slow observer
    /// stops reading (pongs and close frames included) for as long as it runs.</summary>
    /// <value>Default: <see langword="false"/>.</value>
    public bool DeliverInline { get; set; }

    internal ReceiveBufferOptions Clone() => (ReceiveBufferOptions)MemberwiseClone();
}
