// HostedService: a generic-host worker that owns a ReconnectingWebSocket for the app's lifetime.
//
//   dotnet run --project samples/HostedService            connects to Feed:Url from appsettings.json; Ctrl+C stops it gracefully
//   dotnet run --project samples/HostedService -- --demo  runs against an embedded server for 3 seconds, then shuts down
using HostedService;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Resilient.WebSockets.Extensions.Hosting;

bool demo = args.Contains("--demo");
await using var server = demo ? await DemoFeedServer.StartAsync() : null;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = args.Where(a => a != "--demo").ToArray(),
    ContentRootPath = AppContext.BaseDirectory, // appsettings.json sits beside the program, wherever it is run from
});
// The client: its options from the "Feed" section, started with the host, stopped gracefully with it.
builder.Services.AddReconnectingWebSocket("feed")
    .BindConfiguration("Feed")
    .Configure((options, _) =>
    {
        if (server is not null)
        {
            options.Uri = server.Url;
        }
    })
    .StartWithHost();
builder.Services.Configure<TickSettings>(builder.Configuration.GetSection("Ticks"));

// Metrics and traces of every client, through OpenTelemetry, to the console (swap in OTLP for a real dashboard).
builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics => metrics
        .AddMeter("Resilient.WebSockets")
        .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000))
    .WithTracing(tracing => tracing
        .AddSource("Resilient.WebSockets")
        .AddConsoleExporter());
builder.Services.AddHostedService<FeedWorker>();
using var host = builder.Build();

if (server is not null)
{
    var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
    _ = Task.Delay(TimeSpan.FromSeconds(3)).ContinueWith(_ => lifetime.StopApplication(), TaskScheduler.Default);
}

await host.RunAsync();

if (server is not null)
{
    Console.WriteLine($"demo: the server received {server.Ticks} ticks and a close frame '{server.CloseStatus}' ({server.CloseDescription})");
    return server.Ticks > 0 && server.CloseStatus == System.Net.WebSockets.WebSocketCloseStatus.NormalClosure ? 0 : 1;
}

return 0;
