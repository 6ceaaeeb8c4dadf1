using System.Globalization;
using System.Text.Json;

namespace Resilient.WebSockets.Json;

/// <summary>Where a message's JSON went wrong, said without any of the payload (a serializer's own message may quote it).</summary>
internal static class JsonErrors
{
    public static string Where(Exception error) => error switch
    {
        JsonException { Path: { } path, LineNumber: { } line, BytePositionInLine: { } position } =>
            string.Create(CultureInfo.InvariantCulture, $"at {path}, line {line + 1}, byte {position + 1}"),
        JsonException { Path: { } path } => $"at {path}",
        JsonException => "in the JSON",
        _ => error.GetType().Name, // a message of invalid UTF-8, or a converter's own exception type
    };
}
