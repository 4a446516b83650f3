using System.Globalization;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Cli;

/// <summary>Prints the test server's query log as plain lines; pulling in a console logging provider for one line a query is not worth the dependency.</summary>
internal sealed class TextWriterLogger(TextWriter output) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(formatter);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.Now:HH:mm:ss.fff} {formatter(state, exception)}"));
        if (exception is not null)
        {
            output.WriteLine(exception.ToString());
        }

        output.Flush();
    }
}
