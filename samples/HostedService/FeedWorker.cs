using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.WebSockets;

namespace HostedService;

/// <summary>The "Feed" section of appsettings.json.</summary>
public sealed class FeedSettings
{
    public Uri Url { get; set; } = new("ws://127.0.0.1:5000/feed");

    public string Name { get; set; } = "feed";

    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    public ReconnectSettings Reconnect { get; set; } = new();

    public sealed class ReconnectSettings
    {
        public TimeSpan InitialDelay { get; set; } = TimeSpan.FromSeconds(1);

        public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);
    }
}

/// <summary>
/// Owns one ReconnectingWebSocket for the application's lifetime: starts it with the host, logs through the host's
/// ILogger, sends a tick every interval, and on shutdown (Ctrl+C) stops it, which writes what is queued and sends a
/// close frame before the process exits.
/// </summary>
public sealed class FeedWorker(IOptions<FeedSettings> settings, ILoggerFactory loggerFactory, ILogger<FeedWorker> logger) : BackgroundService
{
    private ReconnectingWebSocket? _client;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        var feed = settings.Value;
        _client = new ReconnectingWebSocket(
            new ReconnectingWebSocketOptions
            {
                Uri = feed.Url,
                Name = feed.Name,
                KeepAliveInterval = feed.KeepAliveInterval,
                KeepAliveTimeout = feed.KeepAliveTimeout,
                Reconnect = { InitialDelay = feed.Reconnect.InitialDelay, MaxDelay = feed.Reconnect.MaxDelay },
            },
            loggerFactory); // the library logs connects, drops and backoff through the host's logging
        _client.Messages.Subscribe(message => Log.Received(logger, message.Text));
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _client!.StartAsync(stoppingToken); // keeps trying until connected, or until the host stops
            for (int tick = 1; !stoppingToken.IsCancellationRequested; tick++)
            {
                _client.TryEnqueue($"tick {tick}");
                await Task.Delay(settings.Value.TickInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_client is not null)
        {
            // Graceful: the queue is written, then a close frame; bounded by the host's shutdown timeout.
            await _client.StopAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "service stopping", cancellationToken);
            await _client.DisposeAsync();
            Log.Stopped(logger);
        }
    }
}

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Received {Message}")]
    public static partial void Received(ILogger logger, string message);

    [LoggerMessage(2, LogLevel.Information, "Feed client stopped gracefully")]
    public static partial void Stopped(ILogger logger);
}
