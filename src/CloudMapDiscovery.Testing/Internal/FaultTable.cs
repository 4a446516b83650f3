namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Injected faults.</summary>
/// <remarks>
/// A fault for the query's name wins over a global one; within each, the oldest still armed wins. A fault may be
/// limited to one record type.
/// </remarks>
internal sealed class FaultTable
{
    private readonly Lock _gate = new();
    private readonly List<Entry> _entries = [];

    public void Add(DnsFault fault, string? name, int? count, ushort? type = null)
    {
        lock (_gate)
        {
            _entries.Add(new Entry(fault, name, count, type));
        }
    }

    public void Clear()
    {
        lock (_gate)
        {
            _entries.Clear();
        }
    }

    /// <summary>Picks the fault for a query and uses up one of its count.</summary>
    public DnsFault? Take(string name, ushort type, bool tcp)
    {
        lock (_gate)
        {
            var entry = Find(e => e.Name == name && e.Applies(type), tcp) ?? Find(e => e.Name is null && e.Applies(type), tcp);
            if (entry is null)
            {
                return null;
            }

            if (entry.Remaining is { } remaining)
            {
                if (remaining <= 1)
                {
                    _entries.Remove(entry);
                }
                else
                {
                    entry.Remaining = remaining - 1;
                }
            }

            return entry.Fault;
        }
    }

    private Entry? Find(Func<Entry, bool> scope, bool tcp)
    {
        foreach (var entry in _entries)
        {
            // Truncation only means something over UDP; TCP queries must get through to end the fallback.
            if (scope(entry) && !(tcp && entry.Fault.Kind == DnsFaultKind.Truncate))
            {
                return entry;
            }
        }

        return null;
    }

    private sealed class Entry(DnsFault fault, string? name, int? remaining, ushort? type)
    {
        public DnsFault Fault { get; } = fault;

        public string? Name { get; } = name;

        public ushort? Type { get; } = type;

        public bool Applies(ushort type) => Type is null || Type == type;

        public int? Remaining { get; set; } = remaining;
    }
}
