using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.ServiceDiscovery;

/// <summary>
/// The addresses of one answer as a set: what a Microsoft.Extensions.ServiceDiscovery consumer is given.
/// </summary>
/// <remarks>
/// Order and the merge flag are not part of it; "no instances" is a set of its own, unequal to every answer with
/// addresses.
/// </remarks>
internal sealed class AddressSet : IEquatable<AddressSet>
{
    private readonly HashSet<EndpointAddress> _addresses;
    private readonly bool _negative;

    private AddressSet(HashSet<EndpointAddress> addresses, bool negative)
    {
        _addresses = addresses;
        _negative = negative;
    }

    /// <summary>The set of <paramref name="addresses"/>; <paramref name="negative"/> for a "no instances" answer.</summary>
    public static AddressSet Of(IEnumerable<EndpointAddress> addresses, bool negative) => new([.. addresses], negative);

    public bool Equals(AddressSet? other)
        => other is not null && _negative == other._negative && _addresses.SetEquals(other._addresses);

    public override bool Equals(object? obj) => Equals(obj as AddressSet);

    public override int GetHashCode() => _addresses.Count;
}
