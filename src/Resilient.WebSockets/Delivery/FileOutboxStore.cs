using System.Buffers.Binary;
using System.IO.Hashing;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Resilient.WebSockets.Diagnostics;

namespace Resilient.WebSockets;

/// <summary>When <see cref="FileOutboxStore"/> forces what it wrote to the disk.</summary>
public enum FsyncPolicy
{
    /// <summary>Every append waits for an fsync of its own: the slowest, and no append ever waits for another's.</summary>
    Always = 0,

    /// <summary>Appends that arrive together share one fsync; each completes after the fsync that covers it. As durable as
    /// <see cref="Always"/>, at a fraction of the cost under load.</summary>
    Batched = 1,

    /// <summary>Written to the operating system, never forced to the disk: survives a crash of the app, not of the machine.</summary>
    Never = 2,
}

/// <summary>Settings of a <see cref="FileOutboxStore"/>.</summary>
public sealed class FileOutboxStoreOptions
{
    /// <summary>The directory of the store's files (created when missing). One client at a time: a second store on the same
    /// directory fails with an <see cref="IOException"/>. Required.</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>When appends are forced to the disk.</summary>
    /// <value>Default: <see cref="FsyncPolicy.Batched"/>.</value>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Batched;
}

/// <summary>
/// The built-in <see cref="IOutboxStore"/>: an append-only log file of checksummed records in a directory of its own, so
/// that reliable messages accepted before a crash of the app are sent after the next start.
/// </summary>
/// <remarks>
/// <para>Files: <c>outbox.log</c> (the log) and <c>outbox.lock</c> (held open, exclusively, while the store is open).
/// Each record is its length (4 bytes), the CRC-32 of its body (4 bytes) and the body: an append (id, type, accepted-at
/// and payload) or a removal (id). Little-endian throughout.</para>
/// <para>Opening reads the log from the start and stops at the first record that is torn (a crash in the middle of a
/// write) or fails its checksum: what follows is cut off, with a warning, never an exception. The log is compacted
/// (rewritten with only the messages still in it, to a temporary file that then replaces it by an atomic rename) when
/// it is opened and whenever removed records outweigh live ones past 1 MiB.</para>
/// <para>One writer task does all file work, in order; appends wait for the fsync that covers them
/// (<see cref="FileOutboxStoreOptions.Fsync"/>). The store keeps a copy of every live message in memory (bounded by
/// the outbox's <see cref="DeliveryOptions.MaxBytes"/>).</para>
/// </remarks>
public sealed class FileOutboxStore : IOutboxStore
{
    internal const string LogName = "outbox.log";
    internal const string LockName = "outbox.lock";
    private const int HeaderSize = 8;
    private const byte AppendRecord = 1;
    private const byte RemoveRecord = 2;
    private const int MaxRecordSize = 1 << 30;
    private const long CompactAfterDeadBytes = 1024 * 1024;
    private static readonly byte[] Magic = "RWSOBX1\n"u8.ToArray();

    private readonly FileOutboxStoreOptions _options;
    private readonly ILogger _logger;
    private readonly string _logPath;
    private readonly string _lockPath;
    private readonly object _gate = new();
    private readonly Dictionary<string, LinkedListNode<OutboxEntry>> _index = new(StringComparer.Ordinal);
    private readonly LinkedList<OutboxEntry> _live = new();
    private readonly Channel<Operation> _operations = Channel.CreateUnbounded<Operation>(new UnboundedChannelOptions { SingleReader = true });
    private FileStream? _lock;
    private FileStream? _log;
    private Task? _writer;
    private long _liveBytes;
    private long _deadBytes;
    private bool _disposed;
    private int _fsyncs;

    /// <summary>Creates the store; nothing is opened until the client first uses it.</summary>
    /// <param name="options">Where and how; <see cref="FileOutboxStoreOptions.Directory"/> is required.</param>
    /// <param name="loggerFactory">Where the store logs a cut-off tail; null for no logging.</param>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">The directory is empty, or the fsync policy is not one of the defined ones.</exception>
    public FileOutboxStore(FileOutboxStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Directory))
        {
            throw new ArgumentException(SR.StoreDirectoryMissing, "options.Directory");
        }

        if (!Enum.IsDefined(options.Fsync))
        {
            throw new ArgumentOutOfRangeException("options.Fsync", options.Fsync, SR.Format(SR.EnumInvalid, "fsync policy", options.Fsync, string.Join(", ", Enum.GetNames<FsyncPolicy>())));
        }

        _options = new FileOutboxStoreOptions { Directory = Path.GetFullPath(options.Directory), Fsync = options.Fsync };
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FileOutboxStore>();
        _logPath = Path.Combine(_options.Directory, LogName);
        _lockPath = Path.Combine(_options.Directory, LockName);
    }

    /// <inheritdoc/>
    /// <exception cref="IOException">Another store (in this process or another) has the directory open, or the file cannot be read.</exception>
    public ValueTask<IReadOnlyList<OutboxEntry>> LoadAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            Open();
            return new ValueTask<IReadOnlyList<OutboxEntry>>(_live.ToArray());
        }
    }

    /// <inheritdoc/>
    public ValueTask AppendAsync(OutboxEntry entry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entry);
        cancellationToken.ThrowIfCancellationRequested();
        var record = EncodeAppend(entry);
        lock (_gate)
        {
            Open();
            if (_index.ContainsKey(entry.MessageId))
            {
                throw new ArgumentException(SR.Format(SR.ReliableDuplicateId, entry.MessageId), nameof(entry));
            }

            _index[entry.MessageId] = _live.AddLast(entry);
            _liveBytes += record.Length;
            return Enqueue(new Operation(record, Durable: true));
        }
    }

    /// <inheritdoc/>
    public ValueTask RemoveAsync(string messageId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(messageId);
        lock (_gate)
        {
            Open();
            if (!_index.Remove(messageId, out var node))
            {
                return ValueTask.CompletedTask;
            }

            _live.Remove(node);
            var record = EncodeRemove(messageId);
            long appended = EncodedAppendLength(node.Value);
            _liveBytes -= appended;
            _deadBytes += appended + record.Length;
            return Enqueue(new Operation(record, Durable: false));
        }
    }

    /// <summary>Writes what is pending, closes the files and releases the directory.</summary>
    /// <returns>A task that completes when the files are closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Task? writer;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            writer = _writer;
            _operations.Writer.TryComplete();
        }

        if (writer is not null)
        {
            await writer.ConfigureAwait(false);
        }

        CloseFiles();
    }

    /// <summary>How many times the writer flushed the log (forced to the disk unless <see cref="FsyncPolicy.Never"/>).</summary>
    internal int Flushes => Volatile.Read(ref _fsyncs);

    /// <summary>Closes the files without writing anything more, as a crash of the process does (tests only).</summary>
    internal void Abandon()
    {
        lock (_gate)
        {
            _disposed = true;
            _operations.Writer.TryComplete(new ObjectDisposedException(nameof(FileOutboxStore)));
        }

        CloseFiles();
    }

    // Under the gate: the first use opens the directory, takes its lock, recovers the log and compacts it.
    private void Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_log is not null)
        {
            return;
        }

        System.IO.Directory.CreateDirectory(_options.Directory);
        try
        {
            _lock = new FileStream(_lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException(SR.Format(SR.StoreInUse, _options.Directory), ex);
        }

        try
        {
            Recover();
            Rewrite();
        }
        catch
        {
            _lock.Dispose();
            _lock = null;
            throw;
        }

        _writer = Task.Run(WriteAsync);
    }

    /// <summary>Reads every whole, intact record; the first torn or corrupt one ends the log (logged, never thrown).</summary>
    private void Recover()
    {
        if (!File.Exists(_logPath))
        {
            return;
        }

        byte[] content = File.ReadAllBytes(_logPath);
        if (content.Length == 0)
        {
            return;
        }

        if (content.Length < HeaderSize || !content.AsSpan(0, HeaderSize).SequenceEqual(Magic))
        {
            Log.StoreTailCut(_logger, _logPath, 0, SR.StoreNotALog, content.Length, 0);
            return;
        }

        int offset = HeaderSize;
        string? problem = null;
        while (offset < content.Length)
        {
            if (!TryReadRecord(content, offset, out int length, out problem))
            {
                break;
            }

            Apply(content.AsSpan(offset + 8, length));
            offset += 8 + length;
        }

        if (problem is not null)
        {
            Log.StoreTailCut(_logger, _logPath, offset, problem, content.Length - offset, _live.Count);
        }
    }

    private static bool TryReadRecord(byte[] content, int offset, out int length, out string? problem)
    {
        length = 0;
        if (content.Length - offset < 8)
        {
            problem = SR.StoreTornHeader;
            return false;
        }

        length = BinaryPrimitives.ReadInt32LittleEndian(content.AsSpan(offset));
        if (length is <= 0 or > MaxRecordSize || content.Length - offset - 8 < length)
        {
            problem = SR.StoreTornRecord;
            return false;
        }

        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(content.AsSpan(offset + 4));
        var body = content.AsSpan(offset + 8, length);
        if (Crc32.HashToUInt32(body) != crc || !IsWellFormed(body))
        {
            problem = SR.StoreCorruptRecord;
            return false;
        }

        problem = null;
        return true;
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> body)
    {
        try
        {
            return body[0] switch
            {
                AppendRecord => DecodeAppend(body) is not null,
                RemoveRecord => DecodeId(body[1..], out _) is not null,
                _ => false,
            };
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or IndexOutOfRangeException or ArgumentException)
        {
            return false;
        }
    }

    private void Apply(ReadOnlySpan<byte> body)
    {
        if (body[0] == AppendRecord)
        {
            var entry = DecodeAppend(body)!;
            if (_index.Remove(entry.MessageId, out var existing))
            {
                _live.Remove(existing); // appended again after a removal that was lost: the later copy counts
            }

            _index[entry.MessageId] = _live.AddLast(entry);
        }
        else if (_index.Remove(DecodeId(body[1..], out _)!, out var node))
        {
            _live.Remove(node);
        }
    }

    /// <summary>Writes the live messages to a new log and puts it in place of the old one by an atomic rename (under the
    /// gate, or on the writer task, which is the only one touching the file).</summary>
    private void Rewrite()
    {
        _log?.Dispose();
        string temporary = _logPath + ".tmp";
        long liveBytes = 0;
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Magic);
            foreach (var entry in _live)
            {
                var record = EncodeAppend(entry);
                file.Write(record);
                liveBytes += record.Length;
            }

            file.Flush(flushToDisk: _options.Fsync != FsyncPolicy.Never);
        }

        File.Move(temporary, _logPath, overwrite: true);
        _log = new FileStream(_logPath, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024);
        _liveBytes = liveBytes;
        _deadBytes = 0;
    }

    private ValueTask Enqueue(Operation operation)
    {
        if (!_operations.Writer.TryWrite(operation))
        {
            return ValueTask.FromException(new ObjectDisposedException(nameof(FileOutboxStore)));
        }

        return new ValueTask(operation.Done.Task);
    }

    /// <summary>The one writer: takes what has arrived, writes it, forces it to the disk once for all of it (or once each,
    /// with <see cref="FsyncPolicy.Always"/>), then completes each operation.</summary>
    private async Task WriteAsync()
    {
        var batch = new List<Operation>();
        var reader = _operations.Reader;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var operation))
                {
                    _log!.Write(operation.Record);
                    batch.Add(operation);
                    if (_options.Fsync == FsyncPolicy.Always && operation.Durable)
                    {
                        Flush(batch);
                    }
                }

                Flush(batch);
                CompactIfWorthIt();
            }
        }
#pragma warning disable CA1031 // A failed write fails the operations waiting on it; the client logs them.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            foreach (var operation in batch)
            {
                operation.Done.TrySetException(ex);
            }

            while (reader.TryRead(out var operation))
            {
                operation.Done.TrySetException(ex);
            }
        }
    }

    private void Flush(List<Operation> batch)
    {
        if (batch.Count == 0)
        {
            return;
        }

        _log!.Flush(flushToDisk: _options.Fsync != FsyncPolicy.Never);
        Interlocked.Increment(ref _fsyncs);
        foreach (var operation in batch)
        {
            operation.Done.TrySetResult();
        }

        batch.Clear();
    }

    private void CompactIfWorthIt()
    {
        lock (_gate)
        {
            if (_deadBytes < CompactAfterDeadBytes || _deadBytes < _liveBytes || _disposed)
            {
                return;
            }

            // Everything queued so far is written, and no new write can start while the gate is held.
            Rewrite();
        }
    }

    private void CloseFiles()
    {
        lock (_gate)
        {
            _log?.Dispose();
            _log = null;
            _lock?.Dispose();
            _lock = null;
        }
    }

    private static byte[] EncodeAppend(OutboxEntry entry)
    {
        int idLength = Encoding.UTF8.GetByteCount(entry.MessageId);
        int bodyLength = 1 + 8 + 1 + 2 + idLength + 4 + entry.Data.Length;
        var record = new byte[8 + bodyLength];
        var body = record.AsSpan(8);
        body[0] = AppendRecord;
        BinaryPrimitives.WriteInt64LittleEndian(body[1..], entry.AcceptedAt.ToUnixTimeMilliseconds());
        body[9] = (byte)entry.MessageType;
        BinaryPrimitives.WriteUInt16LittleEndian(body[10..], checked((ushort)idLength));
        Encoding.UTF8.GetBytes(entry.MessageId, body[12..]);
        BinaryPrimitives.WriteInt32LittleEndian(body[(12 + idLength)..], entry.Data.Length);
        entry.Data.Span.CopyTo(body[(16 + idLength)..]);
        Seal(record);
        return record;
    }

    private static long EncodedAppendLength(OutboxEntry entry) => 8 + 1 + 8 + 1 + 2 + Encoding.UTF8.GetByteCount(entry.MessageId) + 4 + entry.Data.Length;

    private static byte[] EncodeRemove(string messageId)
    {
        int idLength = Encoding.UTF8.GetByteCount(messageId);
        var record = new byte[8 + 1 + 2 + idLength];
        var body = record.AsSpan(8);
        body[0] = RemoveRecord;
        BinaryPrimitives.WriteUInt16LittleEndian(body[1..], checked((ushort)idLength));
        Encoding.UTF8.GetBytes(messageId, body[3..]);
        Seal(record);
        return record;
    }

    private static void Seal(byte[] record)
    {
        var body = record.AsSpan(8);
        BinaryPrimitives.WriteInt32LittleEndian(record, body.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), Crc32.HashToUInt32(body));
    }

    private static OutboxEntry? DecodeAppend(ReadOnlySpan<byte> body)
    {
        var acceptedAt = DateTimeOffset.FromUnixTimeMilliseconds(BinaryPrimitives.ReadInt64LittleEndian(body[1..]));
        var type = (WebSocketMessageType)body[9];
        if (type is not (WebSocketMessageType.Text or WebSocketMessageType.Binary) || DecodeId(body[10..], out int idEnd) is not { } id)
        {
            return null;
        }

        var rest = body[(10 + idEnd)..];
        int length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (length < 0 || rest.Length - 4 != length)
        {
            return null;
        }

        return new OutboxEntry(id, type, rest.Slice(4, length).ToArray(), acceptedAt);
    }

    /// <summary>A length-prefixed UTF-8 id; <paramref name="end"/> is where it ends in <paramref name="span"/>.</summary>
    private static string? DecodeId(ReadOnlySpan<byte> span, out int end)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(span);
        end = 2 + length;
        return length == 0 || span.Length < end ? null : Encoding.UTF8.GetString(span.Slice(2, length));
    }

    private sealed record Operation(byte[] Record, bool Durable)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
