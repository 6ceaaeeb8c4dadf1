using Resilient.WebSockets.Sending;

namespace Resilient.WebSockets.Tests.Sending;

public class PayloadPoolTests
{
    [Theory]
    [InlineData(0, 16)]
    [InlineData(16, 16)]
    [InlineData(17, 32)]
    [InlineData(1024, 1024)]
    [InlineData(1025, 2048)]
    [InlineData(PayloadPool.MaxPooledSize, PayloadPool.MaxPooledSize)]
    public void Rent_GivesThePowerOfTwoSizeClassThatFits(int requested, int expected)
    {
        Assert.Equal(expected, new PayloadPool().Rent(requested).Length);
    }

    [Fact]
    public void AFullDefaultQueueOf1KiBMessages_IsReusedWhole_OnceWarm()
    {
        var sut = new PayloadPool();
        int queue = new SendQueueOptions().Capacity;
        var first = Enumerable.Range(0, queue).Select(_ => sut.Rent(1024)).ToList();
        first.ForEach(array => sut.Return(array));

        var second = Enumerable.Range(0, queue).Select(_ => sut.Rent(1024)).ToList();

        Assert.Equal(queue, second.Intersect(first, ReferenceEqualityComparer.Instance).Count());
        Assert.Equal(0, sut.RetainedBytes);
    }

    [Fact]
    public void Return_PastTheRetentionBound_LetsTheArrayGo()
    {
        var sut = new PayloadPool(maxRetainedBytes: 4096);
        var arrays = Enumerable.Range(0, 5).Select(_ => sut.Rent(1024)).ToList();

        arrays.ForEach(array => sut.Return(array));

        Assert.Equal(4096, sut.RetainedBytes);
        var again = Enumerable.Range(0, 5).Select(_ => sut.Rent(1024)).ToList();
        Assert.Equal(4, again.Intersect(arrays, ReferenceEqualityComparer.Instance).Count());
    }

    [Fact]
    public void ArraysLargerThanTheLargestClass_AreExactAndNeverKept()
    {
        var sut = new PayloadPool();
        var large = sut.Rent(PayloadPool.MaxPooledSize + 1);

        sut.Return(large);

        Assert.Equal(PayloadPool.MaxPooledSize + 1, large.Length);
        Assert.Equal(0, sut.RetainedBytes);
    }

    [Fact]
    public void Return_AnArrayOfNoSizeClass_IsNotKept()
    {
        var sut = new PayloadPool();

        sut.Return(new byte[1000]);

        Assert.Equal(0, sut.RetainedBytes);
        Assert.Throws<ArgumentNullException>(() => sut.Return(null!));
    }
}
