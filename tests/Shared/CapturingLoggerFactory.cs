using Microsoft.Extensions.Logging;

namespace Resilient.WebSockets.Testing;

/// <summary>A logger factory that keeps every line the client logs (formatted message, level, exception), for tests
/// that check what a person reading the log would see.</summary>
public sealed class CapturingLoggerFactory(Action<CapturingLoggerFactory.LogLine>? onLine = null) : ILoggerFactory
{
    private readonly List<LogLine> _lines = [];

    public IReadOnlyList<LogLine> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    private Action<LogLine>? OnLine { get; } = onLine;

    public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    public sealed record LogLine(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        public override string ToString() => $"{Level} {Category}[{EventId.Name}]: {Message} {Exception}";
    }

    private sealed class Capturing(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new LogLine(category, logLevel, eventId, formatter(state, exception), exception);
            lock (owner._lines)
            {
                owner._lines.Add(line);
            }

            owner.OnLine?.Invoke(line); // as a logger provider would: user code, on the logging thread
        }
    }
}
