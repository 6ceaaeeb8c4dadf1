// Chat: a line-based chat client and its tiny server.
//
//   dotnet run --project samples/Chat -- --server [--port 5080]                        the server
//   dotnet run --project samples/Chat -- --name alice [--room lobby] [--url ws://...]   a client (type lines; empty line quits)
//   dotnet run --project samples/Chat -- --demo                                         two clients and a server restart
using Chat;
using Resilient.WebSockets;

string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

if (args.Contains("--server"))
{
    int port = int.Parse(Option("--port") ?? "5080", System.Globalization.CultureInfo.InvariantCulture);
    await using var server = await ChatServer.StartAsync(port);
    Console.WriteLine($"Chat server on {server.Url}. Press Enter to stop.");
    Console.ReadLine();
    return 0;
}

if (args.Contains("--demo"))
{
    return await DemoAsync();
}

var url = new Uri(Option("--url") ?? "ws://127.0.0.1:5080/chat");
await using var client = new ChatClient(url, Option("--name") ?? Environment.UserName, Option("--room") ?? "lobby", Console.WriteLine);
using var states = client.StateChanges.Subscribe(change => Console.WriteLine($"({change})"));
await client.StartAsync();
Console.WriteLine("Type a line to say it; an empty line quits.");
while (Console.ReadLine() is { Length: > 0 } line)
{
    await client.SayAsync(line);
}

return 0;

// Alice and Bob chat in one room; the server restarts in the middle; both rejoin and keep chatting.
static async Task<int> DemoAsync()
{
    var server = await ChatServer.StartAsync(0);
    int port = server.Port;
    var heardByBob = new List<string>();
    var heardByAlice = new List<string>();
    await using var alice = new ChatClient(server.Url, "alice", "lobby", line => Print("alice", line, heardByAlice));
    await using var bob = new ChatClient(server.Url, "bob", "lobby", line => Print("bob", line, heardByBob));
    await alice.StartAsync();
    await bob.StartAsync();
    await Task.Delay(300);
    await alice.SayAsync("hi bob");
    await bob.SayAsync("hi alice");
    await Task.Delay(500);

    Console.WriteLine("-- the server restarts --");
    await server.DisposeAsync();
    var queued = alice.SayAsync("did you see that? (sent while the server was down)");
    await Task.Delay(1000);
    server = await ChatServer.StartAsync(port);
    await queued;
    await Task.Delay(1000);
    await bob.SayAsync("yes, and we are back");
    await alice.SayAsync("welcome back, bob");
    await Task.Delay(1000);
    await server.DisposeAsync();

    bool ok;
    lock (heardByBob)
    {
        lock (heardByAlice)
        {
            // The line alice typed while the server was down reached the server once it was back (the room echoes it to
            // her; bob may not have rejoined yet, and the server keeps no history), and both talk after the restart.
            ok = heardByBob.Any(l => l.Contains("alice: hi bob", StringComparison.Ordinal))
                && heardByAlice.Any(l => l.Contains("alice: did you see that?", StringComparison.Ordinal))
                && heardByAlice.Any(l => l.Contains("bob: yes, and we are back", StringComparison.Ordinal))
                && heardByBob.Any(l => l.Contains("alice: welcome back, bob", StringComparison.Ordinal));
        }
    }

    Console.WriteLine(ok ? "demo: both heard each other before and after the restart" : "demo: a message went missing");
    return ok ? 0 : 1;

    static void Print(string who, string line, List<string> heard)
    {
        lock (heard)
        {
            heard.Add(line);
        }

        Console.WriteLine($"{who,-5} | {line}");
    }
}
