using System.Net.Sockets;

namespace CloudMapDiscovery.Discovery;

/// <summary>Widens a service's endpoint set beyond one MULTIVALUE answer, which holds a random subset of at most <see cref="MultiValueSettings.AnswerLimit"/> records.</summary>
/// <remarks>
/// The limit applies per record type: an A answer of exactly that many records may be partial, and so may the AAAA
/// answer beside it, or an SRV answer of that many records, each on its own. The addresses seen recently of a type
/// whose answer may be partial are kept beside it. A kept address is trusted only while nobody has reported it
/// failing since it last worked: DNS no longer vouches for it. Thread-safe: its calls take its own lock.
/// </remarks>
internal sealed class MultiValueMerge
{
    private readonly Dictionary<EndpointAddress, long> _lastSeen = [];
    private readonly HashSet<EndpointAddress> _distrusted = [];

    /// <summary>The endpoint set for <paramref name="answer"/>, merged with <paramref name="previous"/> where the answer may be partial.</summary>
    public DiscoveredEndpoint[] Apply(SourceAnswer answer, EndpointSet? previous, long now, MultiValueSettings settings, long retentionTicks)
    {
        lock (_lastSeen)
        {
            var result = new List<DiscoveredEndpoint>(answer.Addresses.Count);
            var kept = new HashSet<EndpointAddress>();
            int v4 = 0, v6 = 0;
            foreach (var e in answer.Addresses)
            {
                _lastSeen[e.Address] = now;
                if (kept.Add(e.Address))
                {
                    result.Add(e);
                    _ = e.Address.Address.AddressFamily == AddressFamily.InterNetworkV6 ? v6++ : v4++;
                }
            }

            // An instance DNS still lists but whose addresses it could not give this time keeps the ones it had.
            if (answer.UnresolvedTargets.Count > 0 && previous is not null)
            {
                foreach (var e in previous.Endpoints)
                {
                    if (e.Target is { } target && answer.UnresolvedTargets.Contains(target) && kept.Add(e.Address))
                    {
                        _lastSeen[e.Address] = now;
                        result.Add(e);
                    }
                }
            }

            if (settings.Merge && !answer.IsComplete && previous is not null)
            {
                foreach (var e in previous.Endpoints)
                {
                    if (MayBePartial(answer, e.Address, v4, v6, settings.AnswerLimit) && !kept.Contains(e.Address) && !_distrusted.Contains(e.Address)
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
    }

    /// <summary>A consumer saw <paramref name="address"/> fail: it is not merged into later answers until it works again.</summary>
    public void Distrust(EndpointAddress address)
    {
        lock (_lastSeen)
        {
            if (_lastSeen.ContainsKey(address))
            {
                _distrusted.Add(address);
            }
        }
    }

    /// <summary>A consumer saw <paramref name="address"/> work after failing.</summary>
    public void Trust(EndpointAddress address)
    {
        lock (_lastSeen)
        {
            _distrusted.Remove(address);
        }
    }

    /// <summary>"No instances": nothing seen before counts any more.</summary>
    public void Clear()
    {
        lock (_lastSeen)
        {
            _lastSeen.Clear();
            _distrusted.Clear();
        }
    }

    // Whether the answer of the record type that gave this address held exactly the limit, and so may have left some out.
    private static bool MayBePartial(SourceAnswer answer, EndpointAddress address, int v4, int v6, int limit)
        => answer.SrvRecordCount > 0
            ? answer.SrvRecordCount == limit
            : (address.Address.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : v4) == limit;

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
