using System.Net.Sockets;
using System.Security.Authentication;

namespace Resilient.WebSockets.Internal;

/// <summary>What counts as a server certificate the platform refused: an <see cref="AuthenticationException"/> in the
/// exception's chain that an I/O error did not cause (a reset during the TLS handshake is a lost connection, and is
/// retried). The retry rule and the default connector both ask here.</summary>
internal static class CertificateRefusal
{
    /// <summary>The refusal in <paramref name="exception"/>'s chain (itself included), or null.</summary>
    public static AuthenticationException? Find(Exception exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is AuthenticationException { InnerException: not (IOException or SocketException) } refused)
            {
                return refused;
            }
        }

        return null;
    }
}
