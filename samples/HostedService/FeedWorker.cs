using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Resilient.WebSockets;

namespace HostedService;

/// <summary>The "Ticks" section of appsettings.json (the client's own settings are in "Feed").</summary>
public sealed class TickSettings
{
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// The app's logic only: the client "feed" is registered, configured, started and stopped by the hosting package
/// (Program.cs); this worker logs what arrives and enqueues a tick every interval, connected or not.
/// </summary>
public sealed class FeedWorker : BackgroundService
{
    private readonly ReconnectingWebSocket _feed;
    private readonly IOptions<TickSettings> _ticks;
    private readonly IDisposable _received;
    private readonly IDisposable _stopped;

    public FeedWorker([FromKeyedServices("feed")] ReconnectingWebSocket feed, IOptions<TickSettings> ticks, ILogger<FeedWorker> logger)
    {
        _feed = feed;
        _ticks = ticks;
        _received = feed.Messages.Subscribe(message => Log.Received(logger, message.Text));

        // Subscribed for the worker's whole life: the client stops after this worker, on the host's shutdown.
        _stopped = feed.StateChanges.Subscribe(change =>
        {
            if (change.Current == ConnectionState.Stopped)
            {
                Log.Stopped(logger); // the queue was written and the close frame sent
            }
        });
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            for (int tick = 1; !stoppingToken.IsCancellationRequested; tick++)
            {
                _feed.TryEnqueue($"tick {tick}");
                await Task.Delay(_ticks.Value.Interval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the hosting package stops the client after this worker.
        }
    }

    public override void Dispose()
    {
        _received.Dispose();
        _stopped.Dispose();
        base.Dispose();
    }
}

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Received {Message}")]
    public static partial void Received(ILogger logger, string message);

    [LoggerMessage(2, LogLevel.Information, "Feed client stopped gracefully")]
    public static partial void Stopped(ILogger logger);
}
