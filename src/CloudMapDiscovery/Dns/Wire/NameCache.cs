namespace CloudMapDiscovery.Dns.Wire;

/// <summary>The names of one reply read so far, by the offset each starts at, so that no part of a name is walked twice.</summary>
/// <remarks>
/// A name that points to an offset read before takes the rest from here, so a chain of pointers is walked once per
/// reply rather than once per name that uses it, and a hostile reply costs work linear in its size. The text made
/// for one reply is bounded too (<see cref="MaxTextChars"/>, 16 times the largest reply), beyond which the reply is
/// malformed: an honest one, names written out in full and every byte escaped, needs a quarter of it. One cache per
/// thread is kept for the next parse, unless a large reply made it large.
/// </remarks>
internal sealed class NameCache
{
    public const int MaxTextChars = 16 * 65_536;

    private const int KeptEntries = 256;

    [ThreadStatic]
    private static NameCache? t_spare;

    private readonly Dictionary<int, Entry> _names = [];
    private int _chars;

    /// <summary>Gets scratch for the text of one name.</summary>
    public char[] Text { get; } = new char[DnsName.MaxTextLength];

    /// <summary>Gets scratch for the segments of one name: where each starts, the name's wire length up to its end, and the offset past it.</summary>
    public (int Start, int Wire, int End)[] Segments { get; } = new (int, int, int)[DnsName.MaxPointerHops + 1];

    /// <summary>Gets the root name.</summary>
    public static Entry Root { get; } = new(string.Empty, 0, 0, -1);

    /// <summary>An empty cache for one reply; give it back with <see cref="Return"/>.</summary>
    public static NameCache Rent()
    {
        var cache = t_spare ?? new NameCache();
        t_spare = null;
        return cache;
    }

    /// <summary>Empties the cache and keeps it for this thread's next reply.</summary>
    public void Return()
    {
        if (_names.Count <= KeptEntries)
        {
            _names.Clear();
            _chars = 0;
            t_spare = this;
        }
    }

    /// <summary>The name that starts at <paramref name="offset"/>, if read before.</summary>
    public bool TryGet(int offset, out Entry name) => _names.TryGetValue(offset, out name);

    /// <summary>Gives the name read at <paramref name="offset"/> the equal text <paramref name="text"/> (another instance, or letter case).</summary>
    public void Alias(int offset, string text)
    {
        if (_names.TryGetValue(offset, out var name))
        {
            _names[offset] = name with { Text = text };
        }
    }

    /// <summary>Remembers the name that starts at <paramref name="offset"/>; <paramref name="newChars"/> is the text made for it.</summary>
    public void Add(int offset, Entry name, int newChars)
    {
        if ((_chars += newChars) > MaxTextChars)
        {
            throw new DnsFormatException($"the reply's names come to more than {MaxTextChars} characters of text");
        }

        _names.TryAdd(offset, name);
    }

    /// <summary>A name read from one offset: its text, the pointers it follows, its wire length (root byte excluded) and the offset just past it.</summary>
    public readonly record struct Entry(string Text, int Hops, int Wire, int End);
}
