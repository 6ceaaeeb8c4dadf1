using System.Runtime.CompilerServices;
using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Tests.Sending;

public class PendingSendTests
{
    [Fact]
    public async Task SetWritten_CompletesTheTask()
    {
        var sut = new PendingSend();
        Assert.True(sut.TryBeginWrite());

        sut.SetWritten();

        await sut.Task;
    }

    [Fact]
    public async Task Cancel_WhileQueued_WithdrawsAndTellsTheQueue()
    {
        using var cancel = new CancellationTokenSource();
        var sut = new PendingSend();
        int withdrawn = 0;
        sut.EnableWithdrawal(_ => withdrawn++, cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sut.Task);
        Assert.Equal(1, withdrawn);
        Assert.False(sut.TryBeginWrite());
    }

    [Fact]
    public async Task Cancel_WhileWriting_DoesNotWithdraw()
    {
        using var cancel = new CancellationTokenSource();
        var sut = new PendingSend();
        sut.EnableWithdrawal(_ => { }, cancel.Token);
        Assert.True(sut.TryBeginWrite());

        await cancel.CancelAsync();
        sut.SetWritten();

        await sut.Task;
    }

    [Fact]
    public void TryFail_AfterWithdrawal_ReportsNothing()
    {
        using var cancel = new CancellationTokenSource();
        var sut = new PendingSend();
        sut.EnableWithdrawal(_ => { }, cancel.Token);
        cancel.Cancel();

        Assert.False(sut.TryFail(new MessageDroppedException(DropReason.Cleared)));
    }

    [Fact]
    public void EnableWithdrawal_AfterTheSendWasAlreadyWritten_LeavesNoRegistrationOnTheToken()
    {
        // The send loop can write a message before its SendAsync registers on the caller's token.
        using var appLifetime = new CancellationTokenSource();
        var send = WriteThenRegister(appLifetime.Token);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(send.IsAlive, "the caller's long-lived token still holds the finished send");
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference WriteThenRegister(CancellationToken token)
    {
        var sut = new PendingSend();
        Assert.True(sut.TryBeginWrite());
        sut.SetWritten();
        sut.EnableWithdrawal(_ => { }, token);
        return new WeakReference(sut);
    }
}
