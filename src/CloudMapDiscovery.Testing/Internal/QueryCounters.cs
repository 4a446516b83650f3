using System.Collections.Concurrent;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Counts queries as they arrive, before any fault is applied, so that tests can see dropped queries too.</summary>
internal sealed class QueryCounters
{
    private readonly ConcurrentDictionary<(string Name, ushort Type), int> _byQuestion = new();
    private int _total;
    private int _tcp;

    public int Total => Volatile.Read(ref _total);

    public int Tcp => Volatile.Read(ref _tcp);

    public void Record(string? name, ushort type, bool tcp)
    {
        Interlocked.Increment(ref _total);
        if (tcp)
        {
            Interlocked.Increment(ref _tcp);
        }

        if (name is not null)
        {
            _byQuestion.AddOrUpdate((name, type), 1, static (_, count) => count + 1);
        }
    }

    public int Get(string name, ushort? type)
    {
        var sum = 0;
        foreach (var ((entryName, entryType), count) in _byQuestion)
        {
            if (entryName == name && (type is null || type == entryType))
            {
                sum += count;
            }
        }

        return sum;
    }

    public void Reset()
    {
        _byQuestion.Clear();
        Interlocked.Exchange(ref _total, 0);
        Interlocked.Exchange(ref _tcp, 0);
    }
}
