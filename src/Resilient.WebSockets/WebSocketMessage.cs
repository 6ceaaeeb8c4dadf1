using System.Net.WebSockets;
using System.Text;

namespace Resilient.WebSockets;

/// <summary>One whole message received from the server, published on <see cref="ReconnectingWebSocket.Messages"/>.</summary>
/// <remarks>
/// The message owns its bytes: observers may keep it, pass it to another thread, or read it later.
/// Instances are immutable and safe to share between threads.
/// </remarks>
public sealed class WebSocketMessage
{
    private readonly byte[] _data;
    private string? _text;

    internal WebSocketMessage(WebSocketMessageType messageType, byte[] data)
    {
        MessageType = messageType;
        _data = data;
    }

    /// <summary>Whether the server sent the message as <see cref="WebSocketMessageType.Text"/> or <see cref="WebSocketMessageType.Binary"/>.</summary>
    public WebSocketMessageType MessageType { get; }

    /// <summary>The whole message as the server sent it (UTF-8 for text messages).</summary>
    public ReadOnlyMemory<byte> Data => _data;

    /// <summary>The text of a text message, decoded from UTF-8 on first use and then cached.</summary>
    /// <exception cref="InvalidOperationException">The message is binary; read <see cref="Data"/> instead.</exception>
    public string Text
    {
        get
        {
            if (MessageType != WebSocketMessageType.Text)
            {
                throw new InvalidOperationException(SR.BinaryMessageHasNoText);
            }

            return _text ??= Encoding.UTF8.GetString(_data);
        }
    }

    /// <summary>Describes the message without its payload (payloads are never written to logs or exceptions).</summary>
    /// <returns>The type and length, for example "Text message, 42 bytes".</returns>
    public override string ToString() => $"{MessageType} message, {_data.Length} bytes";
}
