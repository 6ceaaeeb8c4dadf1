// A native AOT build of the library, end to end: connects to a WebSocket server on 127.0.0.1 (in this process, on a
// bare TcpListener, so the check needs nothing but the SDK), echoes, loses the connection (the server drops the first
// one without a close frame), reconnects and echoes again, the second time as typed JSON with a source-generated
// context (the first echo, "one", is not JSON: Json<T> skips it and reports it on Dropped). Exit code 0 and one line
// when all of that worked.
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Serialization;
using Resilient.WebSockets;

var timeout = TimeSpan.FromSeconds(15);
using var listener = new TcpListener(IPAddress.Loopback, 0);
listener.Start();
int port = ((IPEndPoint)listener.LocalEndpoint).Port;
var server = Task.Run(async () =>
{
    for (int connection = 1; connection <= 2; connection++)
    {
        using var tcp = await listener.AcceptTcpClientAsync();
        if (connection == 1)
        {
            tcp.Client.LingerState = new LingerOption(true, 0); // dropped with a reset after its echo
        }

        var stream = tcp.GetStream();
        using var socket = await UpgradeAsync(stream);
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
        await socket.SendAsync(buffer.AsMemory(0, result.Count), WebSocketMessageType.Text, true, CancellationToken.None);
        if (connection == 2)
        {
            await socket.ReceiveAsync(buffer, CancellationToken.None); // the client's close
            await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
        }
    }
});

var echoes = new List<string>();
var gotEcho = new SemaphoreSlim(0);
var connected = new SemaphoreSlim(0);
await using var client = new ReconnectingWebSocket(new ReconnectingWebSocketOptions
{
    Uri = new Uri($"ws://127.0.0.1:{port}/aot"),
    Reconnect = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(200) },
});
// Subscribed first: each message reaches it before the observer that signals the echo.
var typed = new List<string>();
int invalidJson = 0;
var gotInvalid = new SemaphoreSlim(0);
using var onTyped = client.Messages.Json(AotJson.Default.Ping).Subscribe(new Observer<Ping>(p => { lock (typed) { typed.Add(p.Text); } }));
using var onDropped = client.Dropped.Subscribe(new Observer<DroppedMessage>(d =>
{
    if (d.Reason == DropReason.InvalidJson)
    {
        Interlocked.Increment(ref invalidJson);
        gotInvalid.Release();
    }
}));
using var onMessage = client.Messages.Subscribe(new Observer<WebSocketMessage>(m => { lock (echoes) { echoes.Add(m.Text); } gotEcho.Release(); }));
using var onConnect = client.Connected.Subscribe(new Observer<ConnectedInfo>(_ => connected.Release()));

await client.StartAsync().WaitAsync(timeout);
await Expect(connected.WaitAsync(timeout), "the first connect");
await client.SendAsync("one");
await Expect(gotEcho.WaitAsync(timeout), "the first echo");
await Expect(gotInvalid.WaitAsync(timeout), "the report that the first echo is not JSON");
await Expect(connected.WaitAsync(timeout), "the reconnect after the server dropped the connection");
await client.SendJsonAsync(new Ping("two"), AotJson.Default.Ping);
await Expect(gotEcho.WaitAsync(timeout), "the echo after the reconnect");
await client.StopAsync().WaitAsync(timeout);
await server.WaitAsync(timeout);

if (!echoes.SequenceEqual(["one", """{"text":"two"}"""]) || !typed.SequenceEqual(["two"]) || Volatile.Read(ref invalidJson) != 1)
{
    Console.WriteLine($"aot check: FAILED, echoes were [{string.Join(", ", echoes)}], typed [{string.Join(", ", typed)}], invalid JSON reported {invalidJson}");
    return 1;
}

Console.WriteLine($"aot check: echoed, reconnected once, echoed typed JSON again, skipped the non-JSON echo (native AOT, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription})");
return 0;

static async Task Expect(Task<bool> wait, string what)
{
    if (!await wait)
    {
        Console.WriteLine($"aot check: FAILED waiting for {what}");
        Environment.Exit(1);
    }
}

static async Task<WebSocket> UpgradeAsync(NetworkStream stream)
{
    var request = new StringBuilder();
    var one = new byte[1];
    while (!request.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) == 1)
    {
        request.Append((char)one[0]);
    }

    string key = request.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase))["Sec-WebSocket-Key:".Length..].Trim();
#pragma warning disable CA5350 // RFC 6455 fixes SHA-1 for the handshake's accept key; it protects nothing.
    string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"));
    return WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
}

sealed record Ping(string Text);

[JsonSerializable(typeof(Ping))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
sealed partial class AotJson : JsonSerializerContext;

sealed class Observer<T>(Action<T> onNext) : IObserver<T>
{
    public void OnNext(T value) => onNext(value);

    public void OnError(Exception error)
    {
    }

    public void OnCompleted()
    {
    }
}
