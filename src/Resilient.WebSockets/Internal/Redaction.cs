namespace Resilient.WebSockets.Internal;

/// <summary>What of an endpoint may appear in a log line, an exception message or a <c>ToString()</c>: scheme, host,
/// port and path. Never user info, a query string (tokens live there) or a fragment.</summary>
internal static class Redaction
{
    public static string Endpoint(Uri uri) =>
        uri.IsAbsoluteUri ? uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped) : Uri(uri.OriginalString);

    /// <summary>An endpoint given as text (possibly not a valid URI): cut at the query or fragment, user info removed.</summary>
    public static string Uri(string? text)
    {
        if (text is null)
        {
            return "(null)";
        }

        int end = text.IndexOfAny(['?', '#']);
        var kept = end < 0 ? text : text[..end];
        int authority = kept.IndexOf("//", StringComparison.Ordinal);
        int at = kept.IndexOf('@', authority < 0 ? 0 : authority);
        if (at >= 0)
        {
            int start = authority < 0 ? 0 : authority + 2;
            kept = string.Concat(kept.AsSpan(0, start), kept.AsSpan(at + 1));
        }

        return kept;
    }
}
