namespace CloudMapDiscovery.Discovery;

/// <summary>
/// Widens a service's endpoint set beyond one MULTIVALUE answer: Route 53 answers with a random subset of at most
/// <see cref="MultiValueSettings.AnswerLimit"/> healthy records, so an answer of exactly that size may be partial,
/// and the addresses seen recently are kept beside it. A kept address is trusted only while nobody has reported it
/// failing since it last worked: DNS no longer vouches for it. Not thread-safe: its owner serialises calls.
/// </summary>
internal sealed class MultiValueMerge
{
    private readonly Dictionary<EndpointAddress, long> _lastSeen = [];
    private readonly HashSet<EndpointAddress> _distrusted = [];

    /// <summary>The endpoint set for <paramref name="answer"/>, merged with <paramref name="previous"/> when the answer may be partial.</summary>
    public DiscoveredEndpoint[] Apply(IReadOnlyList<ResolvedAddress> answer, ResolvedEndpoints? previous, long now, MultiValueSettings settings, long retentionTicks)
    {
        var result = new List<DiscoveredEndpoint>(answer.Count);
        var kept = new HashSet<EndpointAddress>();
        foreach (var a in answer)
        {
            var address = new EndpointAddress(a.Address, a.Port);
            _lastSeen[address] = now;
            if (kept.Add(address))
            {
                result.Add(new DiscoveredEndpoint(address, IsMerged: false));
            }
        }

        if (settings.Merge && answer.Count == settings.AnswerLimit && previous is not null)
        {
            foreach (var e in previous.Endpoints)
            {
                if (!kept.Contains(e.Address) && !_distrusted.Contains(e.Address)
                    && _lastSeen.TryGetValue(e.Address, out var seen) && now - seen < retentionTicks)
                {
                    result.Add(e with { IsMerged = true });
                    kept.Add(e.Address);
                }
            }
        }

        Forget(kept);
        return [.. result];
    }

    /// <summary>A consumer saw <paramref name="address"/> fail: it is not merged into later answers until it works again.</summary>
    public void Distrust(EndpointAddress address)
    {
        if (_lastSeen.ContainsKey(address))
        {
            _distrusted.Add(address);
        }
    }

    /// <summary>A consumer saw <paramref name="address"/> work after failing.</summary>
    public void Trust(EndpointAddress address) => _distrusted.Remove(address);

    /// <summary>"No instances": nothing seen before counts any more.</summary>
    public void Clear()
    {
        _lastSeen.Clear();
        _distrusted.Clear();
    }

    private void Forget(HashSet<EndpointAddress> kept)
    {
        foreach (var address in _lastSeen.Keys)
        {
            if (!kept.Contains(address))
            {
                _lastSeen.Remove(address); // allowed while enumerating a Dictionary since .NET Core 3.0
            }
        }

        _distrusted.RemoveWhere(a => !kept.Contains(a));
    }
}
