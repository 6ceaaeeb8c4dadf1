using System.Globalization;

namespace Resilient.WebSockets;

/// <summary>Describes a successful connect, published on <see cref="ReconnectingWebSocket.Connected"/>.</summary>
/// <param name="Attempt">The 1-based number of the attempt that succeeded, counted within this outage.</param>
/// <param name="IsReconnect"><see langword="true"/> for every connect after the first of a run started by <see cref="ReconnectingWebSocket.StartAsync"/>.</param>
/// <param name="Downtime">How long the client had no session: from the loss of the previous session to this connect; zero for the first connect.</param>
/// <param name="Uri">The endpoint connected to (the one <see cref="ReconnectingWebSocketOptions.UriFactory"/> picked, if set).</param>
public sealed record ConnectedInfo(int Attempt, bool IsReconnect, TimeSpan Downtime, Uri Uri)
{
    /// <summary>Describes the connect for a person, without the query string or user info of <see cref="Uri"/>
    /// (tokens often live there).</summary>
    /// <returns>For example "Reconnected to wss://example.com/feed on attempt 2 after 3.1 s down".</returns>
    public override string ToString() => IsReconnect
        ? string.Create(CultureInfo.InvariantCulture, $"Reconnected to {Redaction.Endpoint(Uri)} on attempt {Attempt} after {Describe.Duration(Downtime)} down")
        : string.Create(CultureInfo.InvariantCulture, $"Connected to {Redaction.Endpoint(Uri)} on attempt {Attempt}");
}
