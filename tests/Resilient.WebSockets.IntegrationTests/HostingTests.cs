using System.Net.WebSockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Resilient.WebSockets.Extensions.Hosting;
using Resilient.WebSockets.IntegrationTests.Infrastructure;
using Resilient.WebSockets.Testing;

namespace Resilient.WebSockets.IntegrationTests;

/// <summary>The hosting package: registration, configuration binding, validation at start-up, named and keyed clients,
/// and a generic host that starts and stops a client against a real loopback server.</summary>
public class HostingTests
{
    private static HostApplicationBuilder Builder(Dictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings ?? []);
        return builder;
    }

    [Fact]
    public void BindConfiguration_SetsScalarAndNestedOptions_FromTheSection()
    {
        var builder = Builder(new()
        {
            ["Feeds:Prices:Uri"] = "wss://prices.example/feed",
            ["Feeds:Prices:KeepAliveInterval"] = "00:00:05",
            ["Feeds:Prices:KeepAliveTimeout"] = "00:00:03",
            ["Feeds:Prices:WatchNetworkChanges"] = "false",
            ["Feeds:Prices:Reconnect:MaxDelay"] = "00:00:07",
            ["Feeds:Prices:SendQueue:Capacity"] = "42",
            ["Feeds:Prices:SendQueue:FullMode"] = "DropOldest",
            ["Feeds:Prices:Heartbeat:Interval"] = "00:00:09",
        });
        builder.Services.AddReconnectingWebSocket("prices").BindConfiguration("Feeds:Prices");
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptionsMonitor<ReconnectingWebSocketOptions>>().Get("prices");

        Assert.Equal(new Uri("wss://prices.example/feed"), options.Uri);
        Assert.Equal(TimeSpan.FromSeconds(5), options.KeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), options.KeepAliveTimeout);
        Assert.False(options.WatchNetworkChanges);
        Assert.Equal(TimeSpan.FromSeconds(7), options.Reconnect.MaxDelay);
        Assert.Equal(42, options.SendQueue.Capacity);
        Assert.Equal(SendQueueFullMode.DropOldest, options.SendQueue.FullMode);
        Assert.Equal(TimeSpan.FromSeconds(9), options.Heartbeat!.Interval);
    }

    [Fact]
    public async Task ValidateOnStart_ABadSetting_StopsTheHostWithTheConstructorsMessageAndTheClientsName()
    {
        var builder = Builder(new() { ["Feed:Uri"] = "http://prices.example/feed" });
        builder.Services.AddReconnectingWebSocket("prices").BindConfiguration("Feed");
        using var host = builder.Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        var expected = Assert.Throws<ArgumentException>(() => new ReconnectingWebSocket(new ReconnectingWebSocketOptions { Uri = new Uri("http://prices.example/feed") })).Message;
        Assert.Equal($"ReconnectingWebSocket 'prices': {expected}", Assert.Single(error.Failures));
    }

    [Fact]
    public void NamedClients_OnePerName_FromTheFactoryAndAsKeyedServices_AndAnUnknownNameIsAClearError()
    {
        var builder = Builder();
        builder.Services.AddReconnectingWebSocket("prices", o => o.Uri = new Uri("ws://127.0.0.1:1/prices"));
        builder.Services.AddReconnectingWebSocket("chat", o => o.Uri = new Uri("ws://127.0.0.1:1/chat"));
        using var host = builder.Build();
        var factory = host.Services.GetRequiredService<IReconnectingWebSocketFactory>();

        var prices = factory.GetClient("prices");
        var chat = factory.GetClient("chat");

        Assert.NotSame(prices, chat);
        Assert.Same(prices, factory.GetClient("prices"));
        Assert.Same(chat, host.Services.GetRequiredKeyedService<ReconnectingWebSocket>("chat"));
        Assert.Equal("prices", prices.Name);
        var error = Assert.Throws<InvalidOperationException>(() => factory.GetClient("orders"));
        Assert.Equal("No ReconnectingWebSocket named 'orders' is registered (registered: 'chat', 'prices'). Register it with services.AddReconnectingWebSocket(\"orders\").", error.Message);
        Assert.Throws<ArgumentException>(() => builder.Services.AddReconnectingWebSocket("chat"));
    }

    [Fact]
    public async Task TheContainersMeterFactoryAndClock_AreTheClients()
    {
        await using var server = await TestServer.StartAsync();
        var clock = new CountingClock();
        var builder = Builder();
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddReconnectingWebSocket("echo", o => o.Uri = server.Url("/echo")).StartWithHost(waitForConnection: true);
        using var host = builder.Build();
        var meters = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        int measured = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Meter.Name == "Resilient.WebSockets")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref measured));
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref measured));
        listener.Start();

        await host.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        await host.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.True(Volatile.Read(ref measured) > 0, "nothing was measured through the container's IMeterFactory");
        Assert.True(clock.Reads > 0, "the client never read the container's TimeProvider");
    }

    private sealed class CountingClock : TimeProvider
    {
        private int _reads;

        public int Reads => Volatile.Read(ref _reads);

        public override long GetTimestamp()
        {
            Interlocked.Increment(ref _reads);
            return base.GetTimestamp();
        }
    }

    [Fact]
    public async Task StartWithHost_ConnectsWhenTheHostStarts_AndStopsWithAFlushAndACloseFrame()
    {
        await using var server = await TestServer.StartAsync();
        var builder = Builder();
        builder.Services.AddReconnectingWebSocket("echo", o =>
            {
                o.Uri = server.Url("/echo");
                o.SendQueue.FlushOnStop = true;
            })
            .Configure((o, services) => o.CloseTimeout = TimeSpan.FromSeconds(5))
            .StartWithHost(waitForConnection: true);
        using var host = builder.Build();
        var client = host.Services.GetRequiredService<IReconnectingWebSocketFactory>().GetClient("echo");
        using var probe = new ClientProbe(client);

        await host.StartAsync().WaitAsync(ClientProbe.DefaultTimeout);
        Assert.True(client.IsConnected);
        await client.SendAsync("hello");
        await probe.WaitUntilAsync(p => p.Texts.Contains("hello"), "the echo");
        Assert.True(client.TryEnqueue("last words"));
        await host.StopAsync().WaitAsync(ClientProbe.DefaultTimeout);

        Assert.Equal(ConnectionState.Stopped, client.State);
        await server.Log.WaitUntilAsync(l => l.Closes.Count > 0, ClientProbe.DefaultTimeout, "the close frame");
        Assert.Contains("last words", server.Log.Texts);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, server.Log.Closes.First().Status);
    }
}
