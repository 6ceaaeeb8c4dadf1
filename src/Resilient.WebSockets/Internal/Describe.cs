using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Resilient.WebSockets.Internal;

/// <summary>How the library tells a person what happened, in one line: durations in seconds, reasons in words, and an
/// exception as its chain of messages (the cause is often three exceptions deep), with no URL query or user info.</summary>
internal static partial class Describe
{
    /// <summary>"7.4 s", "0.25 s", "30 s".</summary>
    public static string Duration(TimeSpan duration) => duration.TotalSeconds switch
    {
        >= 10 => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0} s"),
        >= 1 => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.0} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.##} s"),
    };

    public static string Reason(DisconnectReason reason) => reason switch
    {
        DisconnectReason.ClosedByServer => "closed by the server",
        DisconnectReason.ConnectionLost => "connection lost",
        DisconnectReason.KeepAliveTimeout => "keep-alive timeout (no pong)",
        DisconnectReason.InactivityTimeout => "inactivity timeout",
        DisconnectReason.MessageTooLarge => "message too large",
        DisconnectReason.ProtocolError => "protocol error",
        DisconnectReason.ReconnectRequested => "reconnect requested",
        DisconnectReason.Stopped => "stopped",
        DisconnectReason.Disposed => "disposed",
        DisconnectReason.HeartbeatTimeout => "heartbeat timeout (no reply)",
        DisconnectReason.ConnectFailed => "connect failed",
        _ => reason.ToString(),
    };

    /// <summary>Why a message was dropped, for a person; <paramref name="reliable"/> words the reasons that read differently for the outbox.</summary>
    public static string Drop(DropReason reason, bool reliable) => (reason, reliable) switch
    {
        (DropReason.QueueFull, true) => SR.DropQueueFullReliable,
        (DropReason.Disposed, true) => SR.DropDisposedReliable,
        _ => Drop(reason),
    };

    public static string Drop(DropReason reason) => reason switch
    {
        DropReason.Cleared => SR.DropCleared,
        DropReason.Disposed => SR.DropDisposed,
        DropReason.QueueFull => SR.DropQueueFull,
        DropReason.NotConnected => SR.DropNotConnected,
        DropReason.Disconnected => SR.DropDisconnected,
        DropReason.Expired => SR.DropExpired,
        DropReason.Stopped => SR.DropStopped,
        DropReason.ReceiveBufferFull => SR.DropReceiveBufferFull,
        DropReason.MessageTooLarge => SR.DropMessageTooLarge,
        DropReason.NotAcknowledged => SR.DropNotAcknowledged,
        DropReason.Rejected => SR.DropRejected,
        DropReason.Duplicate => SR.DropDuplicate,
        DropReason.InvalidJson => SR.DropInvalidJson,
        _ => reason.ToString(),
    };

    /// <summary>The messages of <paramref name="exception"/> and its inner exceptions, outermost first, joined by ": ";
    /// a message that repeats the one before it (or says only "one or more errors occurred") is left out, and so is
    /// what lies under a refused handshake (the transport only restates the status).</summary>
    public static string Cause(Exception exception)
    {
        var text = new StringBuilder();
        string? previous = null;
        for (var current = exception; current is not null; current = Next(current))
        {
            string message = current.Message.Trim().TrimEnd('.');
            if (message.Length == 0 || current is AggregateException || (previous is not null && previous.Contains(message, StringComparison.Ordinal)))
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(": ");
            }

            text.Append(message);
            previous = message;
        }

        return Redact(text.Length > 0 ? text.ToString() : exception.GetType().Name);
    }

    /// <summary>Cuts the query, fragment and user info out of every URL in <paramref name="text"/>.</summary>
    public static string Redact(string text) => UrlPattern().Replace(text, match => Redaction.Uri(match.Value));

    /// <summary>The first inner exception of an aggregate (the runtime's keep-alive abort wraps its cause in one).</summary>
    private static Exception? Next(Exception exception) => exception switch
    {
        WebSocketHandshakeException => null,
        AggregateException { InnerExceptions: [var first, ..] } => first,
        _ => exception.InnerException,
    };

    [GeneratedRegex(@"\b(?:wss?|https?)://[^\s""'<>]*[^\s""'<>:;,.)]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UrlPattern();
}
