namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>Sets process environment variables until disposed, then puts back what they were.</summary>
internal sealed class ScopedEnvironment : IDisposable
{
    private readonly (string Key, string? Before)[] _saved;

    private ScopedEnvironment(params (string Key, string? Value)[] variables)
    {
        _saved = [.. variables.Select(v => (v.Key, Environment.GetEnvironmentVariable(v.Key)))];
        foreach (var (key, value) in variables)
        {
            Environment.SetEnvironmentVariable(key, value);
        }
    }

    public static ScopedEnvironment Set(params (string Key, string? Value)[] variables) => new(variables);

    public void Dispose()
    {
        foreach (var (key, before) in _saved)
        {
            Environment.SetEnvironmentVariable(key, before);
        }
    }
}
