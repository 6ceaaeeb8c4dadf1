namespace Resilient.WebSockets.Internal;

/// <summary>A growable ring buffer that adds and removes at both ends. Not thread-safe: its owner locks.</summary>
internal sealed class Deque<T>
{
    private T[] _items;
    private int _head;
    private int _count;

    public Deque(int initialCapacity = 16) => _items = new T[Math.Max(initialCapacity, 4)];

    public int Count => _count;

    /// <summary>The item <paramref name="index"/> places from the front.</summary>
    public ref T this[int index] => ref _items[(_head + index) % _items.Length];

    public void PushBack(T item)
    {
        Grow();
        _items[(_head + _count) % _items.Length] = item;
        _count++;
    }

    public T PopFront()
    {
        var item = _items[_head];
        _items[_head] = default!;
        _head = (_head + 1) % _items.Length;
        _count--;
        return item;
    }

    public T PopBack()
    {
        int index = (_head + _count - 1) % _items.Length;
        var item = _items[index];
        _items[index] = default!;
        _count--;
        return item;
    }

    /// <summary>Removes the items <paramref name="remove"/> returns true for; the others keep their order.</summary>
    public void RemoveWhere(Func<T, bool> remove)
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            var item = this[i];
            if (!remove(item))
            {
                this[kept++] = item;
            }
        }

        for (int i = kept; i < _count; i++)
        {
            this[i] = default!;
        }

        _count = kept;
    }

    private void Grow()
    {
        if (_count < _items.Length)
        {
            return;
        }

        var larger = new T[_items.Length * 2];
        for (int i = 0; i < _count; i++)
        {
            larger[i] = this[i];
        }

        _items = larger;
        _head = 0;
    }
}
