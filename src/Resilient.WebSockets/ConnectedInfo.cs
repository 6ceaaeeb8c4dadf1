namespace Resilient.WebSockets;

/// <summary>Describes a successful connect, published on <see cref="ReconnectingWebSocket.Connected"/>.</summary>
/// <param name="Attempt">The 1-based number of the attempt that succeeded, counted within this outage.</param>
/// <param name="IsReconnect"><see langword="true"/> for every connect after the first of a run started by <see cref="ReconnectingWebSocket.StartAsync"/>.</param>
/// <param name="Downtime">How long the client had no session: from the loss of the previous session to this connect; zero for the first connect.</param>
/// <param name="Uri">The endpoint connected to (the one <see cref="ReconnectingWebSocketOptions.UriFactory"/> picked, if set).</param>
public sealed record ConnectedInfo(int Attempt, bool IsReconnect, TimeSpan Downtime, Uri Uri);
