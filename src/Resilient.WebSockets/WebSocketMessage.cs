using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Resilient.WebSockets;

/// <summary>One whole message received from the server, published on <see cref="ReconnectingWebSocket.Messages"/>.</summary>
/// <remarks>
/// <para>The message owns its content: observers may keep it, pass it to another thread, or read it later. Instances
/// are immutable and safe to share between threads.</para>
/// <para>A text message is decoded once, as it arrives (as a raw <see cref="ClientWebSocket"/> loop would), and its
/// UTF-8 bytes are only materialised if <see cref="Data"/> is read; a binary message holds an exact-size copy of its
/// bytes. That keeps a received 32-byte text message at one small object plus its string.</para>
/// </remarks>
public sealed class WebSocketMessage
{
    // The whole state in one field: a string (text), a byte[] (binary), or a TextWithBytes once Data of a text message was read.
    private object _content;

    internal WebSocketMessage(string text) => _content = text;

    internal WebSocketMessage(byte[] data) => _content = data;

    /// <summary>A text message, as the client would publish it (for tests that feed an app's own observers).</summary>
    /// <param name="text">The text.</param>
    /// <returns>The message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public static WebSocketMessage FromText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new WebSocketMessage(text);
    }

    /// <summary>A binary message, as the client would publish it (for tests that feed an app's own observers).</summary>
    /// <param name="data">The payload; copied, so the caller may reuse it.</param>
    /// <returns>The message.</returns>
    public static WebSocketMessage FromBinary(ReadOnlySpan<byte> data) => new(data.ToArray());

    /// <summary>Whether the server sent the message as <see cref="WebSocketMessageType.Text"/> or <see cref="WebSocketMessageType.Binary"/>.</summary>
    public WebSocketMessageType MessageType => _content is byte[] ? WebSocketMessageType.Binary : WebSocketMessageType.Text;

    /// <summary>The whole message as the server sent it (UTF-8 for text messages; encoded on first use and then kept).</summary>
    public ReadOnlyMemory<byte> Data
    {
        get
        {
            var content = Volatile.Read(ref _content);
            switch (content)
            {
                case byte[] bytes:
                    return bytes;
                case TextWithBytes both:
                    return both.Bytes;
                default:
                    var text = (string)content;
                    var withBytes = new TextWithBytes(text, Encoding.UTF8.GetBytes(text));
                    Volatile.Write(ref _content, withBytes);
                    return withBytes.Bytes;
            }
        }
    }

    /// <summary>The text of a text message.</summary>
    /// <exception cref="InvalidOperationException">The message is binary; read <see cref="Data"/> instead.</exception>
    public string Text => Volatile.Read(ref _content) switch
    {
        string text => text,
        TextWithBytes both => both.Text,
        _ => throw new InvalidOperationException(SR.BinaryMessageHasNoText),
    };

    /// <summary>The payload length in bytes, without materialising the UTF-8 bytes of a text message.</summary>
    internal int ByteLength => Volatile.Read(ref _content) switch
    {
        byte[] bytes => bytes.Length,
        TextWithBytes both => both.Bytes.Length,
        var text => Encoding.UTF8.GetByteCount((string)text),
    };

    /// <summary>Parses the message as JSON straight from what it holds: a binary message's (or an already encoded text
    /// message's) UTF-8 bytes, or a text message's characters; never a copy of either.</summary>
    internal T? Deserialize<T>(JsonTypeInfo<T> typeInfo) => Volatile.Read(ref _content) switch
    {
        byte[] bytes => JsonSerializer.Deserialize(bytes, typeInfo),
        TextWithBytes both => JsonSerializer.Deserialize(both.Bytes, typeInfo),
        var text => JsonSerializer.Deserialize(((string)text).AsSpan(), typeInfo),
    };

    /// <summary>Describes the message without its payload (payloads are never written to logs or exceptions).</summary>
    /// <returns>The type and length, for example "Text message, 42 bytes".</returns>
    public override string ToString() => $"{MessageType} message, {ByteLength} bytes";

    private sealed record TextWithBytes(string Text, byte[] Bytes);
}
