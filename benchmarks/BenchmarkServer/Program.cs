// The loopback server the benchmarks run against, in its own process so that its work and its GC do not count
// against the client being measured. It prints "listening on <port> tls <port> <SHA-256 thumbprint>" once ready (the
// second port speaks TLS with a self-signed certificate made at start, which clients pin) and stops when stdin closes.
//   /push?n=N&size=S   sends N text messages of S bytes as fast as a socket can take them: the frames are built once
//                      and written in batches of at least 256 KiB straight to the upgraded connection (a write costs
//                      the server about a memcpy), then it waits for the client's close
//   /push-slow?n=N&size=S  the same with one WebSocket.SendAsync per message (the old server, to compare)
//   /sink?n=N          reads messages; after every N it sends one text message "done"
//   /echo              echoes every message
//   /abort?after=N     echoes N messages, then aborts the TCP connection
using System.Buffers.Binary;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
using var certificate = SelfSigned();
builder.WebHost.UseKestrel(k =>
{
    k.Listen(IPAddress.Loopback, 0);
    k.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate));
});
var app = builder.Build();
app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });

app.Map("/push", async context =>
{
    int n = Query(context, "n");
    int size = Query(context, "size");
    if (!context.WebSockets.IsWebSocketRequest || context.Features.Get<IHttpUpgradeFeature>() is not { IsUpgradableRequest: true } upgrade)
    {
        context.Response.StatusCode = 400;
        return;
    }

    // The handshake by hand (RFC 6455 section 4.2.2), so that the frames can go out without a WebSocket in between.
    string key = context.Request.Headers["Sec-WebSocket-Key"].ToString();
#pragma warning disable CA5350 // RFC 6455 prescribes SHA-1 for the accept key; it protects nothing.
    string accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
#pragma warning restore CA5350
    context.Response.Headers.Connection = "Upgrade";
    context.Response.Headers.Upgrade = "websocket";
    context.Response.Headers["Sec-WebSocket-Accept"] = accept;
    var stream = await upgrade.UpgradeAsync();

    byte[] frame = TextFrame(size, json: context.Request.Query.ContainsKey("json"));
    int perBatch = Math.Max(1, (256 * 1024) / frame.Length);
    byte[] batch = new byte[frame.Length * perBatch];
    for (int i = 0; i < perBatch; i++)
    {
        frame.CopyTo(batch, i * frame.Length);
    }

    try
    {
        int sent = 0;
        for (; sent + perBatch <= n; sent += perBatch)
        {
            await stream.WriteAsync(batch);
        }

        await stream.WriteAsync(batch.AsMemory(0, (n - sent) * frame.Length));
        await stream.FlushAsync();
    }
    catch (IOException)
    {
        return; // the client went away
    }

    using var socket = WebSocket.CreateFromStream(stream, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = TimeSpan.Zero });
    await DrainAsync(socket, echo: false, sinkEvery: 0, abortAfter: -1, context);
});

app.Map("/push-slow", async context =>
{
    int n = Query(context, "n");
    int size = Query(context, "size");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var payload = Encoding.UTF8.GetBytes(new string('x', size));
    for (int i = 0; i < n; i++)
    {
        await socket.SendAsync(payload, WebSocketMessageType.Text, true, CancellationToken.None);
    }

    await DrainAsync(socket, echo: false, sinkEvery: 0, abortAfter: -1, context);
});

app.Map("/sink", async context =>
{
    int n = Query(context, "n");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: false, sinkEvery: n, abortAfter: -1, context);
});

app.Map("/echo", async context =>
{
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: true, sinkEvery: 0, abortAfter: -1, context);
});

app.Map("/abort", async context =>
{
    int after = Query(context, "after");
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    await DrainAsync(socket, echo: true, sinkEvery: 0, abortAfter: after, context);
});

await app.StartAsync();
var ports = app.Urls.Select(url => new Uri(url)).ToList();
Console.WriteLine($"listening on {ports.First(u => u.Scheme == "http").Port} tls {ports.First(u => u.Scheme == "https").Port} {certificate.GetCertHashString(HashAlgorithmName.SHA256)}");
await Task.Run(() => Console.In.ReadToEnd());
await app.StopAsync();

static async Task DrainAsync(WebSocket socket, bool echo, int sinkEvery, int abortAfter, HttpContext context)
{
    var buffer = new byte[256 * 1024];
    var done = "done"u8.ToArray();
    long messages = 0;
    int count = 0;
    try
    {
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                return;
            }

            count += result.Count;
            if (!result.EndOfMessage)
            {
                continue;
            }

            messages++;
            if (echo)
            {
                await socket.SendAsync(buffer.AsMemory(0, count), result.MessageType, true, CancellationToken.None);
            }

            count = 0;
            if (sinkEvery > 0 && messages % sinkEvery == 0)
            {
                await socket.SendAsync(done, WebSocketMessageType.Text, true, CancellationToken.None);
            }

            if (messages == abortAfter)
            {
                context.Abort();
                return;
            }
        }
    }
    catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
    {
        // The client went away.
    }
}

// One unmasked text frame as a server sends it: FIN + opcode 1, the length (7, 16 or 64 bits), the payload ("x"s).
// With json: a JSON object of that size, {"symbol":"MSFT","price":123.45,"note":"xx..."} (at least 42 bytes).
static byte[] TextFrame(int size, bool json = false)
{
    int header = size < 126 ? 2 : size <= ushort.MaxValue ? 4 : 10;
    var frame = new byte[header + size];
    frame[0] = 0x81;
    if (size < 126)
    {
        frame[1] = (byte)size;
    }
    else if (size <= ushort.MaxValue)
    {
        frame[1] = 126;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), (ushort)size);
    }
    else
    {
        frame[1] = 127;
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(2), (ulong)size);
    }

    frame.AsSpan(header).Fill((byte)'x');
    if (json)
    {
        byte[] head = """{"symbol":"MSFT","price":123.45,"note":"""u8.ToArray();
        if (size < head.Length + 3)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "a JSON push needs at least 42 bytes a message");
        }

        head.CopyTo(frame, header);
        frame[header + head.Length] = (byte)'"';
        frame[^2] = (byte)'"';
        frame[^1] = (byte)'}';
    }

    return frame;
}

static int Query(HttpContext context, string name) =>
    int.Parse(context.Request.Query[name].ToString(), System.Globalization.CultureInfo.InvariantCulture);

static System.Security.Cryptography.X509Certificates.X509Certificate2 SelfSigned()
{
    using var key = RSA.Create(2048);
    var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
    var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
    names.AddIpAddress(IPAddress.Loopback);
    request.CertificateExtensions.Add(names.Build());
    using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12(created.Export(System.Security.Cryptography.X509Certificates.X509ContentType.Pfx), password: null);
}
