namespace CloudMapDiscovery.Testing.Internal;

/// <summary>What to send back for one query: the replies in order, after an optional delay.</summary>
internal sealed record ReplyPlan(TimeSpan Delay, IReadOnlyList<Reply> Replies)
{
    public static ReplyPlan None { get; } = new(TimeSpan.Zero, []);

    public static ReplyPlan Single(byte[] bytes) => new(TimeSpan.Zero, [new Reply(bytes, FromOtherPort: false)]);
}

/// <summary>One reply; <paramref name="FromOtherPort"/> sends it from the spoofing socket (UDP only).</summary>
internal readonly record struct Reply(byte[] Bytes, bool FromOtherPort);
