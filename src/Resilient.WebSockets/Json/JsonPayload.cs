using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Json;

/// <summary>
/// A value serialized as UTF-8 JSON into a buffer of the client's payload pool: no string, no exact-size copy. Whoever
/// holds it gives the buffer back once (<see cref="Dispose"/>), or hands it to the send queue with
/// <see cref="ToOutgoing"/>, which gives it back after the write.
/// </summary>
internal struct JsonPayload : IDisposable
{
    private byte[]? _buffer;

    private JsonPayload(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public readonly ReadOnlyMemory<byte> Memory => _buffer.AsMemory(0, Length);

    /// <summary>Serializes <paramref name="value"/> into this thread's scratch buffer, then copies the exact bytes into
    /// a pooled buffer of their size class (as queued text is): the serializer asks for room for the worst case of
    /// escaping, and a queue of such buffers would hold several times the bytes it sends. A serializer's exception (an
    /// unsupported type, a cycle, a converter's failure) leaves nothing rented and reaches the caller as it is.</summary>
    public static JsonPayload Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = Writers.Rent(typeInfo.Options, out var scratch);
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.Flush();
            var written = scratch.WrittenSpan;
            byte[] buffer = Payloads.Pool.Rent(Math.Max(written.Length, 1));
            written.CopyTo(buffer);
            return new JsonPayload(buffer, written.Length);
        }
        finally
        {
            Writers.Return(writer, scratch);
        }
    }

    /// <summary>The JSON as text (for the envelope, whose bodies are strings).</summary>
    public readonly string ToText() => Encoding.UTF8.GetString(Memory.Span);

    /// <summary>An exact-size copy (for the outbox and requests, which keep their bytes).</summary>
    public readonly byte[] ToArray() => Memory.ToArray();

    /// <summary>A text message for the send queue that owns this buffer from now on.</summary>
    public OutgoingMessage ToOutgoing()
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(JsonPayload));
        _buffer = null;
        return new OutgoingMessage(buffer.AsMemory(0, Length), System.Net.WebSockets.WebSocketMessageType.Text, buffer, completion: null, pool: Payloads.Pool);
    }

    public void Dispose()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            Payloads.Pool.Return(buffer);
        }
    }

    /// <summary>One <see cref="Utf8JsonWriter"/> and one scratch buffer per thread, the writer made for the options it
    /// last served (indentation and the encoder are the writer's, not the serializer's), so a send allocates neither.</summary>
    private static class Writers
    {
        /// <summary>A scratch buffer that grew past this is let go after its use, so a thread keeps no large buffer.</summary>
        private const int KeepAtMost = 1024 * 1024;

        /// <summary>Where an idle writer points, so it holds on to nothing.</summary>
        private static readonly IBufferWriter<byte> Idle = new ArrayBufferWriter<byte>(1);

        [ThreadStatic]
        private static Utf8JsonWriter? t_writer;

        [ThreadStatic]
        private static JsonSerializerOptions? t_options;

        [ThreadStatic]
        private static ArrayBufferWriter<byte>? t_scratch;

        [ThreadStatic]
        private static bool t_rented;

        public static Utf8JsonWriter Rent(JsonSerializerOptions options, out ArrayBufferWriter<byte> scratch)
        {
            if (t_rented)
            {
                // This thread's writer is in use further up its stack (a converter that sends): a writer of its own.
                scratch = new ArrayBufferWriter<byte>();
                return new Utf8JsonWriter(scratch, WriterOptions(options));
            }

            t_rented = true;
            scratch = t_scratch ??= new ArrayBufferWriter<byte>(256);
            if (t_writer is { } writer && ReferenceEquals(t_options, options))
            {
                writer.Reset(scratch);
                return writer;
            }

            t_options = options;
            t_writer = new Utf8JsonWriter(scratch, WriterOptions(options));
            return t_writer;
        }

        public static void Return(Utf8JsonWriter writer, ArrayBufferWriter<byte> scratch)
        {
            if (!ReferenceEquals(writer, t_writer))
            {
                return; // a nested call's own
            }

            writer.Reset(Idle);
            if (scratch.Capacity > KeepAtMost)
            {
                t_scratch = null;
            }
            else
            {
                scratch.ResetWrittenCount();
            }

            t_rented = false;
        }

        private static JsonWriterOptions WriterOptions(JsonSerializerOptions options) => new()
        {
            Encoder = options.Encoder ?? JavaScriptEncoder.Default,
            Indented = options.WriteIndented,
            MaxDepth = options.MaxDepth,
#if NET9_0_OR_GREATER
            IndentCharacter = options.IndentCharacter,
            IndentSize = options.IndentSize,
            NewLine = options.NewLine,
#endif
            SkipValidation = true, // the serializer writes valid JSON; validating it again costs every send
        };
    }
}
