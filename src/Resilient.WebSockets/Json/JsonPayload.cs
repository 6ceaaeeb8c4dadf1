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

    /// <summary>Serializes <paramref name="value"/>; a serializer's exception (an unsupported type, a cycle, a
    /// converter's failure) leaves nothing rented and reaches the caller as it is.</summary>
    public static JsonPayload Serialize<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var writer = Writers.Rent(typeInfo.Options, out var output);
        try
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
            writer.Flush();
            return new JsonPayload(output.Detach(out int length), length);
        }
        finally
        {
            output.Clear();
            Writers.Return(writer);
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

    /// <summary>One <see cref="Utf8JsonWriter"/> per thread, made for the options it last served (indentation and the
    /// encoder are the writer's, not the serializer's), so a send allocates no writer.</summary>
    private static class Writers
    {
        /// <summary>Where an idle writer points, so it holds on to no pooled buffer.</summary>
        public static readonly IBufferWriter<byte> Idle = new ArrayBufferWriter<byte>(1);

        [ThreadStatic]
        private static Utf8JsonWriter? t_writer;

        [ThreadStatic]
        private static JsonSerializerOptions? t_options;

        [ThreadStatic]
        private static PooledBufferWriter? t_output;

        [ThreadStatic]
        private static bool t_rented;

        public static Utf8JsonWriter Rent(JsonSerializerOptions options, out PooledBufferWriter output)
        {
            if (t_rented)
            {
                // This thread's writer is in use further up its stack (a converter that sends): a writer of its own.
                output = new PooledBufferWriter();
                return new Utf8JsonWriter(output, WriterOptions(options));
            }

            t_rented = true;
            output = t_output ??= new PooledBufferWriter();
            if (t_writer is { } writer && ReferenceEquals(t_options, options))
            {
                writer.Reset(output);
                return writer;
            }

            t_options = options;
            t_writer = new Utf8JsonWriter(output, WriterOptions(options));
            return t_writer;
        }

        public static void Return(Utf8JsonWriter writer)
        {
            if (ReferenceEquals(writer, t_writer))
            {
                writer.Reset(Idle);
                t_rented = false;
            }
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

    /// <summary>An <see cref="IBufferWriter{T}"/> over buffers of the payload pool, growing by renting twice the size.</summary>
    private sealed class PooledBufferWriter : IBufferWriter<byte>
    {
        private const int FirstSize = 256;
        private byte[]? _buffer;
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(_written);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(_written);
        }

        /// <summary>Hands the buffer over to the caller (who gives it back to the pool).</summary>
        public byte[] Detach(out int length)
        {
            var buffer = _buffer ?? Payloads.Pool.Rent(1);
            length = _written;
            _buffer = null;
            _written = 0;
            return buffer;
        }

        /// <summary>Gives back a buffer not handed over (the serializer threw).</summary>
        public void Clear()
        {
            if (_buffer is { } buffer)
            {
                _buffer = null;
                Payloads.Pool.Return(buffer);
            }

            _written = 0;
        }

        private void Ensure(int sizeHint)
        {
            int needed = _written + Math.Max(sizeHint, 1);
            if (_buffer is { } current && needed <= current.Length)
            {
                return;
            }

            int size = Math.Max(needed, _buffer is null ? FirstSize : checked(_buffer.Length * 2));
            var grown = Payloads.Pool.Rent(size);
            if (_buffer is { } old)
            {
                old.AsSpan(0, _written).CopyTo(grown);
                Payloads.Pool.Return(old);
            }

            _buffer = grown;
        }
    }
}
