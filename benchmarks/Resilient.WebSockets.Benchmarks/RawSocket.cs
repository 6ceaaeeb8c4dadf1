using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Benchmarks;

/// <summary>What the raw contestants of every suite do the same way.</summary>
internal static class RawSocket
{
    /// <summary>The keep-alive our defaults set (a ping every interval, a pong due within the timeout): the runtime's own
    /// cost of finding a dead link, measured on a bare socket.</summary>
    public static void ApplyOurKeepAlive(ClientWebSocket socket)
    {
        var defaults = new ReconnectingWebSocketOptions();
        socket.Options.KeepAliveInterval = defaults.KeepAliveInterval;
        socket.Options.KeepAliveTimeout = defaults.KeepAliveTimeout;
    }

    /// <summary>Receives <paramref name="count"/> whole messages, each read as a string unless <paramref name="decode"/>
    /// is off; <paramref name="onFirst"/> runs once the first has arrived. Returns the characters (or bytes) read.</summary>
    public static async Task<long> ReceiveAsync(ClientWebSocket socket, int count, int bufferSize, bool decode, Action? onFirst = null)
    {
        var buffer = new byte[bufferSize];
        long chars = 0;
        for (int received = 0; received < count; received++)
        {
            int length = 0;
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                length += result.Count;
            }
            while (!result.EndOfMessage);

            chars += decode ? Encoding.UTF8.GetString(buffer, 0, length).Length : length;
            if (received == 0)
            {
                onFirst?.Invoke();
            }
        }

        return chars;
    }
}
