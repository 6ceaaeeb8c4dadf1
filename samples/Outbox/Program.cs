using System.Diagnostics;
using Outbox;
using Resilient.WebSockets;

// Nothing lost across restarts of the server and of the client itself.
//
// With no arguments this runs the whole demo: an order server (OrderServer.cs) in this process, and the client in a
// child process ("client" mode below) that puts 200 orders into its outbox, each stored in a FileOutboxStore before it
// counts as accepted. Midway the server crashes and comes back; later the client process is killed outright. A new
// client process on the same store directory carries on: what the first one had accepted and never got acknowledged is
// sent after its hello, then the rest. The server processes each order once.
if (args is ["client", var clientUrl, var store, var from, var to])
{
    return await RunClientAsync(new Uri(clientUrl), store, int.Parse(from, System.Globalization.CultureInfo.InvariantCulture), int.Parse(to, System.Globalization.CultureInfo.InvariantCulture));
}

if (Environment.GetEnvironmentVariable(ChildMarker) is not null)
{
    Console.Error.WriteLine($"usage (as a child of the demo): Outbox client <url> <store directory> <first order> <last order>; got: {string.Join(' ', args)}");
    return 2; // never start a demo inside a demo
}

const int Orders = 200;
string directory = Path.Combine(Path.GetTempPath(), "resilient-outbox-demo-" + Environment.ProcessId);
var book = new OrderBook();
await using var server = new OrderServer(book);
await server.StartAsync();
var url = new Uri($"ws://127.0.0.1:{server.Port}/orders");
Console.WriteLine($"order server on {url}; the client's outbox is kept in {directory}");

// The first client: the server crashes after order 60; once the client is back on the new server and has accepted
// order 130, the client itself is killed.
bool killed = false;
int accepted = await RunChildAsync(url, directory, 1, Orders, async (n, connects, child) =>
{
    if (n == 60)
    {
        Console.WriteLine("server: crashing now, back in 1 s on the same port");
        await server.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(1));
        await server.StartAsync(server.Port);
    }
    else if (n >= 130 && connects >= 2 && !killed)
    {
        Console.WriteLine($"client: killed (process {child.Id}) right after order {n} was accepted");
        child.Kill();
        killed = true;
    }
});

// The second client, on the same directory: it resends what the first left unacknowledged, then goes on.
Console.WriteLine($"client: a new process starts on the same store, from order {accepted + 1}");
await RunChildAsync(url, directory, accepted + 1, Orders, (_, _, _) => Task.CompletedTask);

var missing = Enumerable.Range(1, Orders).Select(i => $"order {i}").Except(book.Bodies).ToList();
int extra = book.Count - (Orders - missing.Count); // an order accepted but not yet reported when the first client died is sent again, under a new number
Console.WriteLine($"sent {Orders}, processed by the server {Orders - missing.Count}, repeats the server ignored {book.Repeats}, resent under a new number {extra}, lost {missing.Count}");
Directory.Delete(directory, recursive: true);
return missing.Count == 0 ? 0 : 1;

// Runs one client process and watches its lines ("accepted N", "connected"); returns the last N it reported.
static async Task<int> RunChildAsync(Uri url, string directory, int from, int to, Func<int, int, Process, Task> onAccepted)
{
    // Always through the dotnet host (this process may be the apphost), with a marker so a child never runs the demo.
    string host = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
    var start = new ProcessStartInfo(host, $"\"{typeof(OrderServer).Assembly.Location}\" client {url} \"{directory}\" {from} {to}")
    {
        RedirectStandardOutput = true,
        UseShellExecute = false,
        Environment = { [ChildMarker] = "1" },
    };
    using var child = Process.Start(start)!;
    int last = from - 1;
    int connects = 0;
    while (await child.StandardOutput.ReadLineAsync() is { } line)
    {
        if (line.StartsWith("accepted ", StringComparison.Ordinal))
        {
            last = int.Parse(line["accepted ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            await onAccepted(last, connects, child);
        }
        else
        {
            connects += line.StartsWith("connected", StringComparison.Ordinal) ? 1 : 0;
            Console.WriteLine($"  client {child.Id}: {line}");
        }
    }

    await child.WaitForExitAsync();
    return last;
}

// The client: every order goes into the outbox (stored, fsynced) before it counts as accepted.
static async Task<int> RunClientAsync(Uri url, string directory, int from, int to)
{
    await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
    {
        Uri = url,
        Envelope = new EnvelopeOptions { ClientId = "outbox-demo" }, // stable: the server knows a restarted client by it
        Delivery = new DeliveryOptions { Store = new FileOutboxStore(new FileOutboxStoreOptions { Directory = directory }) },
        Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(200), MaxDelay = TimeSpan.FromSeconds(1) },
    });
    client.Dropped.Subscribe(new Report<DroppedMessage>(d => Console.WriteLine($"dropped: {d}")));
    client.Disconnected.Subscribe(new Report<DisconnectedInfo>(d => Console.WriteLine($"disconnected: {d}")));
    client.Connected.Subscribe(new Report<ConnectedInfo>(c => Console.WriteLine($"connected, {client.OutboxCount} orders waiting in the outbox")));
    await client.StartAsync();

    for (int i = from; i <= to; i++)
    {
        await client.EnqueueReliableAsync($"order {i}");
        Console.WriteLine($"accepted {i}");
        await Task.Delay(TimeSpan.FromMilliseconds(10));
    }

    while (client.OutboxCount > 0)
    {
        await Task.Delay(TimeSpan.FromMilliseconds(20));
    }

    var processed = await client.RequestAsync("how many?");
    Console.WriteLine($"every order acknowledged; the server has {processed.Text}");
    return 0;
}

/// <summary>Names shared by the demo and its child.</summary>
internal static partial class Program
{
    /// <summary>Set in a child's environment: a child that does not get client arguments stops instead of starting a demo.</summary>
    private const string ChildMarker = "RESILIENT_OUTBOX_DEMO_CHILD";
}

/// <summary>Prints what the client publishes.</summary>
internal sealed class Report<T>(Action<T> onNext) : IObserver<T>
{
    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void OnNext(T value) => onNext(value);
}
