using System.Buffers;
using System.Numerics;

namespace Resilient.WebSockets.Sending;

/// <summary>
/// The arrays behind queued payloads, bounded by the bytes it keeps rather than by a count per size: a full send queue
/// of small messages (the default 10 000 of 1 KiB is 10 MiB) is reused whole once warm, while what it keeps after a
/// burst of large messages never passes <see cref="MaxRetainedBytes"/>.
/// </summary>
/// <remarks>
/// Power-of-two size classes from 16 B to <see cref="MaxPooledSize"/>; larger requests are allocated and not kept.
/// Each class is a stack under its own lock (the renter is the app's thread, the returner the send loop: two parties,
/// short critical sections). The runtime's shared pool keeps a few arrays per size and core, and
/// <c>ArrayPool.Create</c> a fixed count per size, whatever the size: neither fits a queue that holds thousands.
/// </remarks>
internal sealed class PayloadPool : ArrayPool<byte>
{
    internal const int MinPooledSize = 16;
    internal const int MaxPooledSize = 64 * 1024;

    /// <summary>The most this pool keeps, over every size class.</summary>
    internal const long MaxRetainedBytes = 32L * 1024 * 1024;

    private readonly Bucket[] _buckets;
    private readonly long _maxRetainedBytes;
    private long _retainedBytes;

    public PayloadPool(long maxRetainedBytes = MaxRetainedBytes)
    {
        _maxRetainedBytes = maxRetainedBytes;
        _buckets = new Bucket[BucketIndex(MaxPooledSize) + 1];
        for (int i = 0; i < _buckets.Length; i++)
        {
            _buckets[i] = new Bucket();
        }
    }

    /// <summary>The bytes of the arrays this pool keeps now (not those rented out).</summary>
    public long RetainedBytes => Volatile.Read(ref _retainedBytes);

    public override byte[] Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        if (minimumLength > MaxPooledSize)
        {
            return GC.AllocateUninitializedArray<byte>(minimumLength);
        }

        int index = BucketIndex(minimumLength);
        if (_buckets[index].TryPop() is { } array)
        {
            Interlocked.Add(ref _retainedBytes, -array.Length);
            return array;
        }

        return GC.AllocateUninitializedArray<byte>(MinPooledSize << index);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        int length = array.Length;
        if (length < MinPooledSize || length > MaxPooledSize || !BitOperations.IsPow2(length))
        {
            return; // not one of ours: let the GC have it
        }

        if (Interlocked.Add(ref _retainedBytes, length) > _maxRetainedBytes)
        {
            Interlocked.Add(ref _retainedBytes, -length); // over the bound: dropped
            return;
        }

        if (clearArray)
        {
            Array.Clear(array);
        }

        _buckets[BucketIndex(length)].Push(array);
    }

    private static int BucketIndex(int length) =>
        length <= MinPooledSize ? 0 : BitOperations.Log2((uint)length - 1) + 1 - BitOperations.Log2(MinPooledSize);

    private sealed class Bucket
    {
        private readonly object _gate = new();
        private byte[]?[] _arrays = new byte[16][];
        private int _count;

        public byte[]? TryPop()
        {
            lock (_gate)
            {
                if (_count == 0)
                {
                    return null;
                }

                var array = _arrays[--_count];
                _arrays[_count] = null;
                return array;
            }
        }

        public void Push(byte[] array)
        {
            lock (_gate)
            {
                if (_count == _arrays.Length)
                {
                    Array.Resize(ref _arrays, _arrays.Length * 2);
                }

                _arrays[_count++] = array;
            }
        }
    }
}
