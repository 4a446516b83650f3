using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace CloudMapDiscovery.Discovery;

/// <summary>One task address, with the port DNS gave for it (SRV) or <see langword="null"/> (A/AAAA: the caller's port).</summary>
internal readonly record struct EndpointAddress(IPAddress Address, int? Port)
{
    /// <summary>The address as it is written in a URI authority: IPv6 in brackets.</summary>
    public string HostText => Address.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString();

    public override string ToString() => Port is { } port ? string.Create(CultureInfo.InvariantCulture, $"{HostText}:{port}") : HostText;
}

/// <summary>An address in a published endpoint set, and whether only the MULTIVALUE merge keeps it there.</summary>
internal readonly record struct DiscoveredEndpoint(EndpointAddress Address, bool IsMerged)
{
    /// <summary>The instance the address belongs to, where the source names one (an SRV target), else <see langword="null"/>.</summary>
    public string? Target { get; init; }

    /// <summary>The Cloud Map instance, where the source names it with its attributes (the API), else <see langword="null"/>.</summary>
    public EndpointInstance? Instance { get; init; }
}

/// <summary>The Cloud Map instance behind an endpoint, as the API names it: its id and attributes.</summary>
/// <remarks>Compares by value, so that an answer that repeats the same instances keeps the endpoint set's version.</remarks>
internal sealed class EndpointInstance : IEquatable<EndpointInstance>
{
    /// <summary>The attribute ECS sets to the task's Availability Zone.</summary>
    public const string ZoneAttribute = "AVAILABILITY_ZONE";

    /// <summary>The attribute that, where a registrant sets it, gives the zone's ID (which names one place in every account).</summary>
    public const string ZoneIdAttribute = "AVAILABILITY_ZONE_ID";

    public EndpointInstance(string id, IReadOnlyDictionary<string, string> attributes, string? ownerAccount = null)
    {
        Id = id;
        Attributes = attributes;
        OwnerAccount = ownerAccount;
    }

    /// <summary>The account that owns the namespace, when it is not the caller's (a shared namespace), else <see langword="null"/>.</summary>
    public string? OwnerAccount { get; }

    public string Id { get; }

    public IReadOnlyDictionary<string, string> Attributes { get; }

    /// <summary>The instance's Availability Zone, where it says (for zone-aware routing).</summary>
    public string? Zone => Attributes.TryGetValue(ZoneAttribute, out var zone) ? zone : null;

    /// <summary>The instance's zone ID, where its attributes say.</summary>
    public string? ZoneId => Attributes.TryGetValue(ZoneIdAttribute, out var id) ? id : null;

    public bool Equals(EndpointInstance? other)
        => other is not null && (ReferenceEquals(this, other) || (Id == other.Id && OwnerAccount == other.OwnerAccount && Attributes.Count == other.Attributes.Count
            && Attributes.All(a => other.Attributes.TryGetValue(a.Key, out var v) && v == a.Value)));

    public override bool Equals(object? obj) => Equals(obj as EndpointInstance);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Id);

    public override string ToString() => Id;
}
