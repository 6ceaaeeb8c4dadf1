using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Resilient.WebSockets;

/// <summary>
/// The envelope: a tiny JSON protocol for apps that control both ends, so that reliable sends, requests and the
/// de-duplication of the server's reliable messages work without writing any reader. Every frame is one JSON text
/// message with a type field <c>t</c>:
/// <code>
/// c->s {"t":"hello","client":"&lt;client id&gt;","next":42}  first on every session
/// c->s {"t":"msg","id":42,"ack":true,"b":"&lt;body&gt;"}      s->c {"t":"ack","id":42} | {"t":"nack","id":42,"err":"..."}
/// c->s {"t":"req","id":43,"b":"&lt;body&gt;"}                 s->c {"t":"res","id":43,"b":"&lt;body&gt;"}
/// s->c {"t":"msg","id":"s9","ack":true,"b":"&lt;body&gt;"}    c->s {"t":"ack","id":"s9"}   (the client de-duplicates these)
/// s->c {"t":"msg","b":"&lt;body&gt;"}                         plain push, no ack;  c->s the same for SendAsync(string)
/// </code>
/// </summary>
/// <remarks>
/// <para>With the envelope, <see cref="ReconnectingWebSocket.Messages"/> carries bodies only; acks, responses and repeats
/// are consumed. Text sends (<see cref="ReconnectingWebSocket.SendAsync(string, CancellationToken)"/>,
/// <see cref="ReconnectingWebSocket.TryEnqueue(string)"/>) go out as plain <c>msg</c> frames; binary sends go out as they are.</para>
/// <para>The client numbers its reliable messages and requests itself. Numbers only grow, across restarts too: each client
/// starts from the current time in milliseconds times 1 000, so a server that de-duplicates by (client id, number) never
/// mistakes a new message for an old one. Messages resent from a <see cref="DeliveryOptions.Store"/> keep their numbers.</para>
/// </remarks>
public sealed class EnvelopeOptions
{
    /// <summary>Who this client is to the server, in every <c>hello</c>. Required with a <see cref="DeliveryOptions.Store"/>
    /// (the server de-duplicates by it across restarts, so it must be the same after a restart).</summary>
    /// <value>Default: null, which is a new random id for each client object.</value>
    public string? ClientId { get; set; }

    internal EnvelopeOptions Clone() => (EnvelopeOptions)MemberwiseClone();
}

/// <summary>The kind of an envelope frame (its <c>t</c> field).</summary>
public enum EnvelopeType
{
    /// <summary><c>hello</c>: the client's first frame on every session.</summary>
    Hello = 0,

    /// <summary><c>msg</c>: a message; with an id and <c>ack</c>, one that must be acknowledged.</summary>
    Message = 1,

    /// <summary><c>ack</c>: the message with this id arrived.</summary>
    Ack = 2,

    /// <summary><c>nack</c>: the message with this id was refused (never resent).</summary>
    Nack = 3,

    /// <summary><c>req</c>: a request.</summary>
    Request = 4,

    /// <summary><c>res</c>: the response to the request with this id.</summary>
    Response = 5,
}

/// <summary>One envelope frame, read by <see cref="EnvelopeReader.Read"/>.</summary>
/// <param name="Type">Its kind.</param>
/// <param name="Id">Its id (numbers as their decimal text), or null.</param>
/// <param name="Body">Its body (<c>b</c>), or null.</param>
public sealed record EnvelopeFrame(EnvelopeType Type, string? Id, string? Body)
{
    /// <summary>Whether the sender asks for an ack (<c>"ack":true</c> on a <c>msg</c>).</summary>
    public bool AckRequested { get; init; }

    /// <summary>The reason of a <c>nack</c> (<c>err</c>), or null.</summary>
    public string? Error { get; init; }

    /// <summary>The client id of a <c>hello</c>, or null.</summary>
    public string? ClientId { get; init; }

    /// <summary>The next number a <c>hello</c>'s client will use, or null.</summary>
    public long? Next { get; init; }

    /// <summary>Describes the frame without its body.</summary>
    /// <returns>For example "msg 42 (ack requested), body of 12 characters".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{EnvelopeCodec.Name(Type)}{(Id is null ? "" : " " + Id)}{(AckRequested ? " (ack requested)" : "")}{(Body is null ? "" : $", body of {Body.Length} characters")}");
}

/// <summary>Reads envelope frames: what a .NET server uses to understand a client with <see cref="ReconnectingWebSocketOptions.Envelope"/>.</summary>
public static class EnvelopeReader
{
    /// <summary>Reads one frame from the UTF-8 JSON of a text message.</summary>
    /// <param name="utf8Json">The message's bytes.</param>
    /// <returns>The frame, or null when the message is not an envelope frame (not JSON, not an object, no known <c>t</c>).</returns>
    public static EnvelopeFrame? Read(ReadOnlyMemory<byte> utf8Json) => EnvelopeCodec.Read(utf8Json.Span);
}

/// <summary>Writes envelope frames (UTF-8 JSON, to send as text messages): what a .NET server uses to answer a client
/// with <see cref="ReconnectingWebSocketOptions.Envelope"/>.</summary>
public static class EnvelopeWriter
{
    /// <summary>An <c>ack</c> for the message <paramref name="id"/>.</summary>
    /// <param name="id">The message's id as read (a number's decimal text is written as a number).</param>
    /// <returns>The frame.</returns>
    public static byte[] Ack(string id) => EnvelopeCodec.Write(EnvelopeType.Ack, id, body: null);

    /// <summary>A <c>nack</c>: the message <paramref name="id"/> is refused and will not be resent.</summary>
    /// <param name="id">The message's id.</param>
    /// <param name="error">Why, for the sender's exception; or null.</param>
    /// <returns>The frame.</returns>
    public static byte[] Nack(string id, string? error = null) => EnvelopeCodec.Write(EnvelopeType.Nack, id, body: null, error: error);

    /// <summary>The <c>res</c> to the request <paramref name="id"/>.</summary>
    /// <param name="id">The request's id.</param>
    /// <param name="body">The response.</param>
    /// <returns>The frame.</returns>
    public static byte[] Response(string id, string body) => EnvelopeCodec.Write(EnvelopeType.Response, id, body);

    /// <summary>A <c>msg</c>: a plain push, or with <paramref name="id"/> and <paramref name="ack"/> one the client acknowledges
    /// and de-duplicates.</summary>
    /// <param name="body">The message.</param>
    /// <param name="id">Its id, unique per client for as long as the client's de-duplication window; or null.</param>
    /// <param name="ack">Whether the client must acknowledge it (needs <paramref name="id"/>).</param>
    /// <returns>The frame.</returns>
    public static byte[] Message(string body, string? id = null, bool ack = false) => EnvelopeCodec.Write(EnvelopeType.Message, id, body, ack: ack);
}

/// <summary>The envelope's JSON, both ways, with the runtime's reader and writer (no reflection: trim- and AOT-safe).</summary>
internal static class EnvelopeCodec
{
    public static string Name(EnvelopeType type) => type switch
    {
        EnvelopeType.Hello => "hello",
        EnvelopeType.Message => "msg",
        EnvelopeType.Ack => "ack",
        EnvelopeType.Nack => "nack",
        EnvelopeType.Request => "req",
        _ => "res",
    };

    public static byte[] Hello(string clientId, long next)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("t", "hello");
            json.WriteString("client", clientId);
            json.WriteNumber("next", next);
            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Write(EnvelopeType type, string? id, string? body, bool ack = false, string? error = null)
    {
        var buffer = new ArrayBufferWriter<byte>(32 + (body?.Length ?? 0));
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("t", Name(type));
            if (id is not null)
            {
                if (long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out long number) && number.ToString(CultureInfo.InvariantCulture) == id)
                {
                    json.WriteNumber("id", number);
                }
                else
                {
                    json.WriteString("id", id);
                }
            }

            if (ack)
            {
                json.WriteBoolean("ack", true);
            }

            if (error is not null)
            {
                json.WriteString("err", error);
            }

            if (body is not null)
            {
                json.WriteString("b", body);
            }

            json.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static EnvelopeFrame? Read(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8[0] != (byte)'{')
        {
            return null; // the common case for a non-envelope message, without an exception
        }

        try
        {
            var reader = new Utf8JsonReader(utf8);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            string? type = null, id = null, body = null, error = null, client = null;
            long? next = null;
            bool ack = false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                string name = reader.GetString()!;
                reader.Read();
                switch (name)
                {
                    case "t":
                        type = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case "id":
                        id = reader.TokenType switch
                        {
                            JsonTokenType.String => reader.GetString(),
                            JsonTokenType.Number => reader.TryGetInt64(out long n) ? n.ToString(CultureInfo.InvariantCulture) : null,
                            _ => null,
                        };
                        break;
                    case "b":
                        body = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case "ack":
                        ack = reader.TokenType == JsonTokenType.True;
                        break;
                    case "err":
                        error = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case "client":
                        client = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                        break;
                    case "next":
                        next = reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out long n2) ? n2 : null;
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            EnvelopeType? kind = type switch
            {
                "hello" => EnvelopeType.Hello,
                "msg" => EnvelopeType.Message,
                "ack" => EnvelopeType.Ack,
                "nack" => EnvelopeType.Nack,
                "req" => EnvelopeType.Request,
                "res" => EnvelopeType.Response,
                _ => null,
            };
            if (kind is not { } known || (known is EnvelopeType.Ack or EnvelopeType.Nack or EnvelopeType.Request or EnvelopeType.Response && id is null))
            {
                return null;
            }

            return new EnvelopeFrame(known, id, body) { AckRequested = ack && id is not null, Error = error, ClientId = client, Next = next };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
