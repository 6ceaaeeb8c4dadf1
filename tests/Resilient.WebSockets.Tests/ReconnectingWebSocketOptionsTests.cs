using System.Net.WebSockets;

namespace Resilient.WebSockets.Tests;

/// <summary>Bad settings fail in the constructor with a message that says what was wrong and what is valid.</summary>
public class ReconnectingWebSocketOptionsTests
{
    private static ReconnectingWebSocketOptions Valid() => new() { Uri = new Uri("wss://example.test/feed") };

    private static TException Rejects<TException>(Action<ReconnectingWebSocketOptions> breakIt)
        where TException : Exception
    {
        var options = Valid();
        breakIt(options);
        return Assert.Throws<TException>(() => new ReconnectingWebSocket(options));
    }

    [Fact]
    public void Ctor_NullOptions_Throws() =>
        Assert.Throws<ArgumentNullException>(() => new ReconnectingWebSocket((ReconnectingWebSocketOptions)null!));

    [Fact]
    public void Ctor_NullUri_Throws() =>
        Assert.Throws<ArgumentNullException>(() => new ReconnectingWebSocket((Uri)null!));

    [Fact]
    public void Ctor_NoEndpoint_ThrowsSayingHowToSetOne()
    {
        var error = Rejects<ArgumentException>(o => o.Uri = null);

        Assert.StartsWith("No endpoint is configured. Set options.Uri to an absolute ws:// or wss:// URI, or set options.UriFactory.", error.Message);
    }

    [Fact]
    public void Ctor_RelativeUri_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(new Uri("/socket", UriKind.Relative)));

        Assert.StartsWith("The URI '/socket' is invalid. It must be absolute, with the scheme ws or wss", error.Message);
    }

    [Theory]
    [InlineData("http://example.test/")]
    [InlineData("https://example.test/")]
    [InlineData("ftp://example.test/")]
    public void Ctor_SchemeOtherThanWsOrWss_Throws(string uri)
    {
        var error = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(new Uri(uri)));

        Assert.StartsWith($"The URI scheme '{new Uri(uri).Scheme}' is invalid. It must be ws or wss.", error.Message);
    }

    [Fact]
    public async Task Ctor_UriFactoryWithoutUri_IsValidAndTheFactoryPicksEachAttemptsEndpoint()
    {
        var connector = new Infrastructure.InMemoryConnector { AnswerCloses = true };
        var picked = new List<Uri>();
        int calls = 0;
        await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
        {
            UriFactory = _ => ValueTask.FromResult(new Uri($"ws://example.test/shard{++calls}")),
            Connector = new RecordingConnector(connector, picked),
        });

        await client.StartAsync().WaitAsync(Testing.ClientProbe.DefaultTimeout);
        await client.ReconnectAsync().WaitAsync(Testing.ClientProbe.DefaultTimeout);

        Assert.Equal([new Uri("ws://example.test/shard1"), new Uri("ws://example.test/shard2")], picked);
    }

    private sealed class RecordingConnector(IWebSocketConnector inner, List<Uri> uris) : IWebSocketConnector
    {
        public ValueTask<WebSocket> ConnectAsync(Uri uri, CancellationToken cancellationToken)
        {
            uris.Add(uri);
            return inner.ConnectAsync(uri, cancellationToken);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Ctor_ConnectTimeoutNotPositive_Throws(int seconds)
    {
        var error = Rejects<ArgumentOutOfRangeException>(o => o.ConnectTimeout = TimeSpan.FromSeconds(seconds));

        Assert.Equal("options.ConnectTimeout", error.ParamName);
        Assert.StartsWith($"The connect timeout '{TimeSpan.FromSeconds(seconds)}' is invalid. It must be greater than zero, or Timeout.InfiniteTimeSpan.", error.Message);
    }

    [Fact]
    public async Task Ctor_InfiniteConnectTimeout_IsValidAndNoAttemptTimesOut()
    {
        var time = new Resilient.WebSockets.Testing.TestTimeProvider();
        var connector = new Infrastructure.InMemoryConnector();
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connector.Script = async (_, token) =>
        {
            await open.Task.WaitAsync(token);
            return null;
        };
        using var client = Infrastructure.TestClients.Create(connector, time, o => o.ConnectTimeout = Timeout.InfiniteTimeSpan);

        var start = client.StartAsync();
        Assert.True(SpinWait.SpinUntil(() => connector.Attempts == 1, Testing.ClientProbe.DefaultTimeout));
        time.Advance(TimeSpan.FromDays(1));
        Assert.False(start.IsCompleted);
        open.SetResult();

        await start.WaitAsync(Testing.ClientProbe.DefaultTimeout);
        Assert.Equal(1, connector.Attempts);
    }

    [Fact]
    public void Ctor_KeepAliveTimeoutZero_Throws() =>
        Assert.Equal("options.KeepAliveTimeout", Rejects<ArgumentOutOfRangeException>(o => o.KeepAliveTimeout = TimeSpan.Zero).ParamName);

    [Fact]
    public void Ctor_KeepAliveIntervalNegative_Throws() =>
        Assert.Equal("options.KeepAliveInterval", Rejects<ArgumentOutOfRangeException>(o => o.KeepAliveInterval = TimeSpan.FromSeconds(-1)).ParamName);

    [Fact]
    public void Ctor_InactivityTimeoutZero_Throws() =>
        Assert.Equal("options.InactivityTimeout", Rejects<ArgumentOutOfRangeException>(o => o.InactivityTimeout = TimeSpan.Zero).ParamName);

    [Fact]
    public void Ctor_CloseTimeoutZero_Throws() =>
        Assert.Equal("options.CloseTimeout", Rejects<ArgumentOutOfRangeException>(o => o.CloseTimeout = TimeSpan.Zero).ParamName);

    [Theory]
    [InlineData(0)]
    [InlineData(1_048_577)]
    public void Ctor_QueueCapacityOutOfRange_Throws(int capacity)
    {
        var error = Rejects<ArgumentOutOfRangeException>(o => o.SendQueue.Capacity = capacity);

        Assert.StartsWith($"The send queue capacity '{capacity}' is invalid. It must be between 1 and 1048576.", error.Message);
    }

    [Fact]
    public void Ctor_MaxMessageSizeZero_Throws()
    {
        var error = Rejects<ArgumentOutOfRangeException>(o => o.MaxMessageSize = 0);

        Assert.StartsWith($"The maximum message size '0' is invalid. It must be between 1 and {Array.MaxLength}.", error.Message);
    }

    [Fact]
    public void Ctor_MaxDelayBelowInitialDelay_Throws()
    {
        var error = Rejects<ArgumentOutOfRangeException>(o =>
        {
            o.Reconnect.InitialDelay = TimeSpan.FromSeconds(5);
            o.Reconnect.MaxDelay = TimeSpan.FromSeconds(1);
        });

        Assert.StartsWith("The maximum reconnect delay '00:00:01' is invalid. It must be at least the initial delay '00:00:05'.", error.Message);
    }

    [Fact]
    public void Ctor_MaxAttemptsZero_Throws()
    {
        var error = Rejects<ArgumentOutOfRangeException>(o => o.Reconnect.MaxAttempts = 0);

        Assert.StartsWith("The maximum number of connect attempts '0' is invalid. It must be between 1 and 2147483647.", error.Message);
    }

    [Fact]
    public void Ctor_NullReconnectOrSendQueue_Throws()
    {
        Assert.StartsWith("The option 'options.Reconnect' is invalid. It must not be null.", Rejects<ArgumentException>(o => o.Reconnect = null!).Message);
        Assert.StartsWith("The option 'options.SendQueue' is invalid. It must not be null.", Rejects<ArgumentException>(o => o.SendQueue = null!).Message);
    }

    [Fact]
    public void Ctor_OptionsChangedAfterwards_HaveNoEffect()
    {
        var options = Valid();
        options.SendQueue.Capacity = 1;
        using var client = new ReconnectingWebSocket(options);

        options.SendQueue.Capacity = 100;
        options.Name = "changed";

        Assert.True(client.TryEnqueue("one"));
        Assert.False(client.TryEnqueue("two"));
        Assert.Equal("example.test", client.Name);
    }

    [Fact]
    public void Name_Given_IsUsed()
    {
        var options = Valid();
        options.Name = "prices";

        using var client = new ReconnectingWebSocket(options);

        Assert.Equal("prices", client.Name);
    }

    [Fact]
    public void SendAsync_InvalidMessageType_ThrowsAtTheCall()
    {
        using var client = new ReconnectingWebSocket(Valid());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => { Task task = client.SendAsync(new byte[1], WebSocketMessageType.Close).AsTask(); });

        Assert.StartsWith("The message type 'Close' is invalid. It must be Text or Binary.", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => client.TryEnqueue(new byte[1], WebSocketMessageType.Close));
    }

    [Fact]
    public void SendAsync_NullText_ThrowsAtTheCall()
    {
        using var client = new ReconnectingWebSocket(Valid());

        Assert.Throws<ArgumentNullException>(() => { Task task = client.SendAsync((string)null!).AsTask(); });
        Assert.Throws<ArgumentNullException>(() => client.TryEnqueue((string)null!));
    }

    [Fact]
    public async Task SendAsync_AfterDispose_FaultsWithObjectDisposedAndTryEnqueueRefuses()
    {
        var client = new ReconnectingWebSocket(Valid());
        await client.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync("late").AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.SendAsync(new byte[1]).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.StartAsync());
        Assert.False(client.TryEnqueue("late"));
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1006)]
    [InlineData(1015)]
    [InlineData(5000)]
    public async Task StopAsync_CloseStatusAClientMayNotSend_ThrowsAtTheCall(int status)
    {
        using var client = new ReconnectingWebSocket(Valid());

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.StopAsync((WebSocketCloseStatus)status); });

        Assert.StartsWith($"The close status '{status}' is invalid. It must be between 1000 and 4999, and not 1004, 1006 or 1015 (reserved).", error.Message);
        await client.StopAsync(WebSocketCloseStatus.NormalClosure);
    }

    [Fact]
    public void StopAsync_DescriptionTooLong_ThrowsAtTheCall()
    {
        using var client = new ReconnectingWebSocket(Valid());

        var error = Assert.Throws<ArgumentException>(() => { _ = client.StopAsync(WebSocketCloseStatus.NormalClosure, new string('x', 124)); });

        Assert.StartsWith("The close description is 124 UTF-8 bytes long. It must be at most 123 bytes.", error.Message);
    }
}
