namespace CloudMapDiscovery.Tests.Cli;

/// <summary>A <see cref="StringWriter"/> that reports, with a snapshot of its text, when a marker first appears: how a test learns that `serve` is listening without polling.</summary>
internal sealed class WatchedWriter(string marker) : StringWriter
{
    private readonly TaskCompletionSource<string> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> Seen => _seen.Task;

    public override void Write(char value)
    {
        base.Write(value);
        Check();
    }

    public override void Write(string? value)
    {
        base.Write(value);
        Check();
    }

    public override void Write(char[] buffer, int index, int count)
    {
        base.Write(buffer, index, count);
        Check();
    }

    public override void Write(ReadOnlySpan<char> buffer)
    {
        base.Write(buffer);
        Check();
    }

    public override void WriteLine(string? value)
    {
        base.WriteLine(value);
        Check();
    }

    private void Check()
    {
        if (!_seen.Task.IsCompleted)
        {
            var text = ToString();
            if (text.Contains(marker, StringComparison.Ordinal))
            {
                _seen.TrySetResult(text);
            }
        }
    }
}
