using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets.Connection;

/// <summary>The rules for a close frame the app asks for (RFC 6455 section 7.4): a code a client may send, and a reason
/// that fits the frame.</summary>
internal static class CloseArguments
{
    /// <summary>A close frame's payload is at most 125 bytes, two of them the code.</summary>
    public const int MaxDescriptionBytes = 123;

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="closeStatus"/> is not a code a client may send.</exception>
    /// <exception cref="ArgumentException"><paramref name="statusDescription"/> is too long, or given with <see cref="WebSocketCloseStatus.Empty"/>.</exception>
    public static void Validate(WebSocketCloseStatus closeStatus, string? statusDescription)
    {
        int code = (int)closeStatus;
        if (code < 1000 || code > 4999 || code is 1004 or 1006 or 1015)
        {
            throw new ArgumentOutOfRangeException(nameof(closeStatus), closeStatus,
                SR.Format(SR.CloseStatusInvalid, code));
        }

        if (statusDescription is null)
        {
            return;
        }

        if (closeStatus == WebSocketCloseStatus.Empty && statusDescription.Length > 0)
        {
            throw new ArgumentException(SR.CloseDescriptionWithEmpty, nameof(statusDescription));
        }

        if (Encoding.UTF8.GetByteCount(statusDescription) > MaxDescriptionBytes)
        {
            throw new ArgumentException(SR.Format(SR.CloseDescriptionTooLong, Encoding.UTF8.GetByteCount(statusDescription), MaxDescriptionBytes), nameof(statusDescription));
        }
    }
}
