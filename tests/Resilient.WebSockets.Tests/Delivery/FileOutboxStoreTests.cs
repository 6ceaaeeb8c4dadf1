using System.Net.WebSockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.Tests.Delivery;

/// <summary>The file store on its own, in a temporary directory per test: what it keeps, what survives a crash, what a
/// torn or corrupt tail costs (only itself), one client per directory, compaction.</summary>
public sealed class FileOutboxStoreTests : IDisposable
{
    private static readonly DateTimeOffset AcceptedAt = new(2026, 12, 2, 7, 0, 0, TimeSpan.Zero);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "rws-outbox-" + Guid.NewGuid().ToString("N"));
    private readonly CapturingLoggerFactory _logs = new();

    private string LogPath => Path.Combine(_directory, FileOutboxStore.LogName);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    private FileOutboxStore CreateSut(FsyncPolicy fsync = FsyncPolicy.Batched) => new(new FileOutboxStoreOptions { Directory = _directory, Fsync = fsync }, _logs);

    private static OutboxEntry Entry(string id, string text = "payload") =>
        new(id, WebSocketMessageType.Text, Encoding.UTF8.GetBytes($"{id}:{text}"), AcceptedAt);

    private static string[] Ids(IReadOnlyList<OutboxEntry> entries) => entries.Select(e => e.MessageId).ToArray();

    private async Task<IReadOnlyList<OutboxEntry>> ReopenAsync()
    {
        await using var store = CreateSut();
        return await store.LoadAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AppendAndRemove_AReopenedStoreHasTheLiveOnesInOrderWithEverything()
    {
        await using (var sut = CreateSut())
        {
            Assert.Empty(await sut.LoadAsync(CancellationToken.None));
            await sut.AppendAsync(Entry("a"), CancellationToken.None);
            await sut.AppendAsync(new OutboxEntry("b", WebSocketMessageType.Binary, new byte[] { 0, 1, 2, 255 }, AcceptedAt.AddSeconds(1)), CancellationToken.None);
            await sut.AppendAsync(Entry("c"), CancellationToken.None);
            await sut.RemoveAsync("a", CancellationToken.None);
            await sut.RemoveAsync("unknown", CancellationToken.None);
        }

        var loaded = await ReopenAsync();

        Assert.Equal(["b", "c"], Ids(loaded));
        Assert.Equal(WebSocketMessageType.Binary, loaded[0].MessageType);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, loaded[0].Data.ToArray());
        Assert.Equal(AcceptedAt.AddSeconds(1), loaded[0].AcceptedAt);
        Assert.Equal("c:payload", Encoding.UTF8.GetString(loaded[1].Data.Span));
        Assert.DoesNotContain(_logs.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task Crash_EveryCompletedAppendIsThereAfterwards()
    {
        var sut = CreateSut();
        for (int i = 0; i < 20; i++)
        {
            await sut.AppendAsync(Entry($"m{i}"), CancellationToken.None);
        }

        await sut.RemoveAsync("m0", CancellationToken.None);
        sut.Abandon(); // the process dies: nothing more is written, the handles close

        Assert.Equal(Enumerable.Range(1, 19).Select(i => $"m{i}"), Ids(await ReopenAsync()));
    }

    [Fact]
    public async Task TornTail_IsCutOffWithAWarning_AndTheLogGoesOnFromThere()
    {
        await using (var sut = CreateSut())
        {
            await sut.AppendAsync(Entry("a"), CancellationToken.None);
            await sut.AppendAsync(Entry("b"), CancellationToken.None);
        }

        using (var file = new FileStream(LogPath, FileMode.Open))
        {
            file.SetLength(file.Length - 3); // a crash in the middle of the last write
        }

        await using (var sut = CreateSut())
        {
            Assert.Equal(["a"], Ids(await sut.LoadAsync(CancellationToken.None)));
            await sut.AppendAsync(Entry("c"), CancellationToken.None);
        }

        var warning = Assert.Single(_logs.Lines, l => l.Level == LogLevel.Warning);
        Assert.Contains("a record is cut short", warning.Message, StringComparison.Ordinal);
        Assert.Contains("1 messages were recovered", warning.Message, StringComparison.Ordinal);
        Assert.Equal(["a", "c"], Ids(await ReopenAsync()));
        Assert.Single(_logs.Lines, l => l.Level == LogLevel.Warning); // the cut is written back: no second warning
    }

    [Fact]
    public async Task CorruptRecord_EndsTheLogThere_WhatCameBeforeIsKept()
    {
        await using (var sut = CreateSut())
        {
            await sut.AppendAsync(Entry("a", "first"), CancellationToken.None);
            await sut.AppendAsync(Entry("b", "second"), CancellationToken.None);
            await sut.AppendAsync(Entry("c", "third"), CancellationToken.None);
        }

        var bytes = await File.ReadAllBytesAsync(LogPath);
        int second = IndexOf(bytes, "b:second"u8);
        bytes[second + 2] ^= 0x40; // one flipped bit in b's payload
        await File.WriteAllBytesAsync(LogPath, bytes);

        Assert.Equal(["a"], Ids(await ReopenAsync()));
        Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("fails its checksum", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NotALog_IsReplacedWithAWarningNotAnException()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(LogPath, "something else entirely");

        Assert.Empty(await ReopenAsync());
        Assert.Contains(_logs.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains("header", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecondStoreOnTheSameDirectory_FailsWithAClearIOException_UntilTheFirstIsDisposed()
    {
        var first = CreateSut();
        await first.LoadAsync(CancellationToken.None);
        await using var second = CreateSut();

        var error = await Assert.ThrowsAsync<IOException>(() => second.LoadAsync(CancellationToken.None).AsTask());
        Assert.Contains("is in use by another client", error.Message, StringComparison.Ordinal);

        await first.DisposeAsync();
        await using var third = CreateSut();
        Assert.Empty(await third.LoadAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Compaction_RemovedRecordsDoNotPileUp()
    {
        string payload = new('x', 10_000);
        await using (var sut = CreateSut())
        {
            for (int i = 0; i < 300; i++)
            {
                await sut.AppendAsync(Entry($"m{i}", payload), CancellationToken.None);
                if (i > 0)
                {
                    await sut.RemoveAsync($"m{i - 1}", CancellationToken.None);
                }
            }

            await sut.AppendAsync(Entry("last"), CancellationToken.None); // written after the last compaction check
        }

        // 3 MB went through the log; what is left is about one live message plus less than 1 MiB of removed ones.
        Assert.InRange(new FileInfo(LogPath).Length, 10_000, 1024 * 1024 + 40_000);
        Assert.Equal(["m299", "last"], Ids(await ReopenAsync()));
    }

    [Fact]
    public async Task Fsync_AlwaysFlushesEveryAppend_BatchedSharesFlushes()
    {
        await using (var always = CreateSut(FsyncPolicy.Always))
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => always.AppendAsync(Entry($"a{i}"), CancellationToken.None).AsTask()));
            Assert.Equal(50, always.Flushes);
        }

        Directory.Delete(_directory, recursive: true);
        await using var batched = CreateSut(FsyncPolicy.Batched);
        await batched.LoadAsync(CancellationToken.None);
        await Task.WhenAll(Enumerable.Range(0, 50).Select(i => batched.AppendAsync(Entry($"b{i}"), CancellationToken.None).AsTask()));
        Assert.InRange(batched.Flushes, 1, 50);
    }

    [Fact]
    public void BadOptions_AreRefusedByName()
    {
        Assert.Equal("options.Directory", Assert.Throws<ArgumentException>(() => new FileOutboxStore(new FileOutboxStoreOptions())).ParamName);
        Assert.Equal("options.Fsync", Assert.Throws<ArgumentOutOfRangeException>(() => new FileOutboxStore(new FileOutboxStoreOptions { Directory = _directory, Fsync = (FsyncPolicy)9 })).ParamName);
    }

    private static int IndexOf(byte[] haystack, ReadOnlySpan<byte> needle) => haystack.AsSpan().IndexOf(needle);
}
