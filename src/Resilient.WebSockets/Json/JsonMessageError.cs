using System.Text.Json;

namespace Resilient.WebSockets;

/// <summary>An incoming message that a <c>Json&lt;T&gt;</c> subscription could not parse, handed to its <c>onError</c>.
/// The subscription skipped the message and lives on.</summary>
/// <param name="Message">The message as it arrived (its <see cref="WebSocketMessage.ToString"/> says type and length, never the payload).</param>
/// <param name="Exception">What went wrong: the serializer's <see cref="JsonException"/> (with <see cref="JsonException.Path"/>),
/// or one wrapping a converter's own exception.</param>
public sealed record JsonMessageError(WebSocketMessage Message, JsonException Exception);
