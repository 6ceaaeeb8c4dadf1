using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Resilient.WebSockets.Extensions.Hosting;

/// <summary>One client per registered name, created on first use from its named options and the container's logger
/// factory, meter factory and clock; disposed with the container.</summary>
internal sealed class ReconnectingWebSocketFactory(IServiceProvider services, ClientNames names, IOptionsMonitor<ReconnectingWebSocketOptions> options)
    : IReconnectingWebSocketFactory, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<ReconnectingWebSocket>> _clients = new(StringComparer.Ordinal);

    public ReconnectingWebSocket GetClient(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!names.Names.Contains(name))
        {
            string known = names.Names.Count == 0 ? "none" : string.Join(", ", names.Names.Order(StringComparer.Ordinal).Select(n => $"'{n}'"));
            throw new InvalidOperationException($"No ReconnectingWebSocket named '{name}' is registered (registered: {known}). Register it with services.AddReconnectingWebSocket(\"{name}\").");
        }

        return _clients.GetOrAdd(name, n => new Lazy<ReconnectingWebSocket>(() => Create(n))).Value;
    }

    private ReconnectingWebSocket Create(string name)
    {
        var configured = options.Get(name);
        if (configured.Name.Length == 0)
        {
            configured.Name = name;
        }

        configured.MeterFactory ??= services.GetService<IMeterFactory>();
        if (configured.TimeProvider == TimeProvider.System && services.GetService<TimeProvider>() is { } time)
        {
            configured.TimeProvider = time;
        }

        try
        {
            return new ReconnectingWebSocket(configured, services.GetService<ILoggerFactory>());
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"ReconnectingWebSocket '{name}': {ex.Message}", ex.ParamName, ex);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients.Values)
        {
            if (client.IsValueCreated)
            {
                await client.Value.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>Starts one named client with the host and stops it gracefully with it.</summary>
internal sealed partial class ReconnectingWebSocketHostedService(IReconnectingWebSocketFactory factory, string name, bool waitForConnection, ILogger? logger) : IHostedService
{
    private Task? _start;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var client = factory.GetClient(name);
        var start = client.StartAsync(CancellationToken.None);
        _start = start;
        if (waitForConnection)
        {
            await start.WaitAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        // In the background: the client retries under its policy; if it gives up, say so (the run is over).
        _ = start.ContinueWith(
            task =>
            {
                if (logger is not null)
                {
                    GaveUp(logger, name, task.Exception!.GetBaseException().Message, task.Exception.GetBaseException());
                }
            },
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    [LoggerMessage(500, LogLevel.Error, "ReconnectingWebSocket '{Name}' stopped trying to connect: {Cause} It stays stopped until the host restarts.")]
    private static partial void GaveUp(ILogger logger, string name, string cause, Exception exception);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_start is null)
        {
            return;
        }

        // Flush (SendQueue.FlushOnStop, on by default) and close within the host's shutdown timeout: the token ends the
        // flush; the close frame still goes out, saying why.
        await factory.GetClient(name).StopAsync(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, "host stopping", cancellationToken).ConfigureAwait(false);
    }
}
