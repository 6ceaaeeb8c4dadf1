using System.Net.WebSockets;
using Resilient.WebSockets.Receiving;

namespace Resilient.WebSockets.Tests.Receiving;

public class MessageAssemblerTests
{
    private static void Receive(MessageAssembler sut, byte[] fragment)
    {
        var target = sut.GetReceiveBuffer();
        Assert.True(target.Length >= fragment.Length);
        fragment.CopyTo(target);
        Assert.True(sut.Advance(fragment.Length));
    }

    [Fact]
    public void TakeMessage_Fragments_AreJoinedIntoOneExactSizeCopy()
    {
        using var sut = new MessageAssembler(1024);
        Receive(sut, "hel"u8.ToArray());
        Receive(sut, "lo"u8.ToArray());

        var message = sut.TakeMessage(WebSocketMessageType.Text);

        Assert.Equal("hello", message.Text);
        Assert.Equal(5, message.Data.Length);
        Assert.Equal(0, sut.Count);
    }

    [Fact]
    public void GetReceiveBuffer_NeverOffersMoreThanOneBytePastTheLimit()
    {
        using var sut = new MessageAssembler(100);

        Assert.Equal(101, sut.GetReceiveBuffer().Length);
        Assert.True(sut.Advance(100));
        Assert.Equal(1, sut.GetReceiveBuffer().Length);
        Assert.False(sut.Advance(1));
    }

    [Fact]
    public void GetReceiveBuffer_LargeMessage_GrowsAndKeepsEveryByte()
    {
        using var sut = new MessageAssembler(10 * 1024 * 1024);
        var payload = new byte[3 * 1024 * 1024];
        Random.Shared.NextBytes(payload);

        for (int offset = 0; offset < payload.Length;)
        {
            var target = sut.GetReceiveBuffer();
            int count = Math.Min(target.Length, payload.Length - offset);
            payload.AsSpan(offset, count).CopyTo(target.Span);
            Assert.True(sut.Advance(count));
            offset += count;
        }

        Assert.Equal(payload, sut.TakeMessage(WebSocketMessageType.Binary).Data.ToArray());
        Assert.True(sut.GetReceiveBuffer().Length < 2 * MessageAssembler.RetainedBufferSize, "the large buffer is given back after its message");
    }

    [Fact]
    public void TakeMessage_Empty_IsAnEmptyMessage()
    {
        using var sut = new MessageAssembler(10);

        var message = sut.TakeMessage(WebSocketMessageType.Text);

        Assert.Equal(string.Empty, message.Text);
    }

    [Fact]
    public void Text_OfABinaryMessage_ThrowsSayingToReadData()
    {
        using var sut = new MessageAssembler(10);
        Receive(sut, [1, 2]);

        var message = sut.TakeMessage(WebSocketMessageType.Binary);

        Assert.Equal("The message is binary, so it has no Text. Read Data instead.", Assert.Throws<InvalidOperationException>(() => message.Text).Message);
        Assert.Equal("Binary message, 2 bytes", message.ToString());
    }
}
