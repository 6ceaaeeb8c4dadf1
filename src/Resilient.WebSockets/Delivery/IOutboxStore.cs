using System.Net.WebSockets;

namespace Resilient.WebSockets;

/// <summary>
/// Keeps a client's accepted, unacknowledged reliable messages across restarts of the app (see <see cref="DeliveryOptions.Store"/>).
/// <see cref="FileOutboxStore"/> is the built-in one.
/// </summary>
/// <remarks>The client calls the store from one operation at a time per message, and never concurrently with
/// <see cref="LoadAsync"/>; <see cref="AppendAsync"/> and <see cref="RemoveAsync"/> of different messages may overlap.
/// An append must be durable when its task completes (the reliable send is accepted then). A failed remove is logged,
/// and the message comes back, once more, after the next start: the server's de-duplication absorbs it.</remarks>
public interface IOutboxStore : IAsyncDisposable
{
    /// <summary>Every entry appended and not removed, in the order they were appended. Called once per
    /// <see cref="ReconnectingWebSocket.StartAsync"/>, before connecting (later starts of the same client return nothing new).</summary>
    /// <param name="cancellationToken">Cancels the load (the start is cancelled).</param>
    /// <returns>The entries.</returns>
    ValueTask<IReadOnlyList<OutboxEntry>> LoadAsync(CancellationToken cancellationToken);

    /// <summary>Keeps <paramref name="entry"/>; the reliable send that made it is accepted when this completes.</summary>
    /// <param name="entry">The message.</param>
    /// <param name="cancellationToken">Cancels the append (the send is then not accepted).</param>
    /// <returns>A task that completes when the entry is durable.</returns>
    ValueTask AppendAsync(OutboxEntry entry, CancellationToken cancellationToken);

    /// <summary>Forgets the message: it was acknowledged, rejected or given up.</summary>
    /// <param name="messageId">The message's id.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns>A task that completes when the removal is recorded.</returns>
    ValueTask RemoveAsync(string messageId, CancellationToken cancellationToken);
}

/// <summary>One stored reliable message.</summary>
/// <param name="MessageId">The id the app gave it.</param>
/// <param name="MessageType">Text (UTF-8) or binary.</param>
/// <param name="Data">The payload.</param>
/// <param name="AcceptedAt">When the client accepted it (its <see cref="DeliveryOptions.DeliveryTimeout"/> counts from here, across restarts).</param>
public sealed record OutboxEntry(string MessageId, WebSocketMessageType MessageType, ReadOnlyMemory<byte> Data, DateTimeOffset AcceptedAt)
{
    /// <summary>Describes the entry without its payload.</summary>
    /// <returns>For example "Outbox entry order-42: text, 120 bytes, accepted 2026-12-02T07:00:00.0000000+00:00".</returns>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"Outbox entry {MessageId}: {(MessageType == WebSocketMessageType.Text ? "text" : "binary")}, {Data.Length} bytes, accepted {AcceptedAt:O}");
}
