using System.Net;
using System.Net.Sockets;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Testing.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudMapDiscovery.Testing;

/// <summary>
/// An authoritative DNS server for one zone, listening on UDP and TCP on the same loopback port, for tests of DNS
/// clients.
/// </summary>
/// <remarks>
/// It behaves like the Route 53 servers behind a Cloud Map private DNS namespace: AA answers, NXDOMAIN or NODATA with
/// the zone's SOA (negative TTL 900 s by default), REFUSED outside the zone, EDNS(0), truncation of UDP replies beyond
/// the client's payload size, CNAME chains, and SRV answers with their targets' addresses. Records can change while it
/// runs, faults can be injected, and it can be stopped and restarted on the same port.
/// Names passed to the record methods are case-insensitive. A name ending in a dot, or ending in the zone,
/// is absolute; any other name is relative to the zone (<c>"name"</c> means <c>name.internal</c>), and
/// <c>"@"</c> is the zone itself. All members are thread-safe.
/// </remarks>
public sealed class DnsTestServer : IAsyncDisposable, IDisposable
{
    private readonly ZoneData _zone;
    private readonly FaultTable _faults = new();
    private readonly QueryCounters _counters = new();
    private readonly ListenerLifecycle _sockets;

    private DnsTestServer(DnsTestServerOptions options, ZoneData zone)
    {
        _zone = zone;
        var logger = options.Logger ?? NullLogger.Instance;
        var processor = new QueryProcessor(zone, _faults, _counters, (ushort)options.UdpPayloadSize, logger);
        _sockets = new ListenerLifecycle(options.Address, processor, options.TimeProvider, logger);
    }

    /// <summary>Gets the address and port the server listens on (UDP and TCP), for example <c>127.0.0.1:40123</c>; use it as a resolver's name server.</summary>
    public IPEndPoint EndPoint => _sockets.EndPoint;

    /// <summary>Gets the zone the server is authoritative for, lower-case and without a trailing dot.</summary>
    public string Zone => _zone.Zone;

    /// <summary>Gets a value indicating whether the sockets are open (false after <see cref="StopAsync"/> until <see cref="RestartAsync"/>).</summary>
    public bool IsRunning => _sockets.IsRunning;

    /// <summary>
    /// Gets or sets the TTL of the zone's SOA record and its MINIMUM field, which together bound how long clients cache
    /// NXDOMAIN and NODATA (RFC 2308); default 900 seconds, like a Cloud Map namespace.
    /// </summary>
    public TimeSpan NegativeTtl
    {
        get => _zone.NegativeTtl;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            _zone.NegativeTtl = value;
        }
    }

    /// <summary>
    /// Gets or sets a value indicating whether SRV answers carry their in-zone targets' A and AAAA records in the
    /// additional section, as Route 53 does; default <see langword="true"/>.
    /// </summary>
    public bool IncludeServiceTargetAddresses
    {
        get => _zone.IncludeServiceTargetAddresses;
        set => _zone.IncludeServiceTargetAddresses = value;
    }

    /// <summary>
    /// Gets or sets the most A, AAAA or SRV records in one answer; when more exist, a random subset is sent.
    /// </summary>
    /// <remarks>
    /// Set 8 to emulate Route 53 MULTIVALUE routing. Default <see langword="null"/>: all records, in the order added.
    /// </remarks>
    public int? MaxAnswerRecords
    {
        get => _zone.MaxAnswerRecords;
        set
        {
            if (value is { } max)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
            }

            _zone.MaxAnswerRecords = value;
        }
    }

    /// <summary>Gets how many queries arrived since the start or <see cref="ResetCounts"/>, over both transports, including ones that faults dropped or answered wrongly.</summary>
    public int QueryCount => _counters.Total;

    /// <summary>Gets how many of <see cref="QueryCount"/> arrived over TCP.</summary>
    public int TcpQueryCount => _counters.Tcp;

    /// <summary>Starts a server on a loopback port.</summary>
    /// <param name="zone">The zone, for example <c>internal</c>.</param>
    /// <param name="address">The address to listen on; default 127.0.0.1.</param>
    /// <param name="port">The port for UDP and TCP; 0 picks a free one.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Unambiguous (a zone string or an options object first); both shipped together, so no compiled caller can bind to the wrong one.")]
    public static Task<DnsTestServer> StartAsync(string zone = "internal", IPAddress? address = null, int port = 0, CancellationToken cancellationToken = default) =>
        StartAsync(new DnsTestServerOptions { Zone = zone, Address = address ?? IPAddress.Loopback, Port = port }, cancellationToken);

    /// <summary>Starts a server with the given settings.</summary>
    /// <param name="options">The settings; read once, here.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="SocketException">The port is in use.</exception>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Unambiguous (a zone string or an options object first); both shipped together, so no compiled caller can bind to the wrong one.")]
    public static Task<DnsTestServer> StartAsync(DnsTestServerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.Address);
        ArgumentNullException.ThrowIfNull(options.TimeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Port, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Port, ushort.MaxValue);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.UdpPayloadSize, 512);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.UdpPayloadSize, ushort.MaxValue);
        cancellationToken.ThrowIfCancellationRequested();
        var server = new DnsTestServer(options, new ZoneData(options.Zone));
        server._sockets.Start(options.Port); // binding is synchronous: the port is taken (or refused) before this returns
        return Task.FromResult(server);
    }

    /// <summary>Adds an A (IPv4) or AAAA (IPv6) record, like Cloud Map registering an instance.</summary>
    /// <remarks>Adding an address the name already has updates its TTL. Replaces a CNAME at the name.</remarks>
    /// <param name="name">The owner name, relative or absolute, inside the zone.</param>
    /// <param name="address">The address.</param>
    /// <param name="ttl">The TTL, whole seconds (0 is allowed and common in Cloud Map).</param>
    public void AddAddress(string name, IPAddress address, TimeSpan ttl)
    {
        ArgumentNullException.ThrowIfNull(address);
        CheckTtl(ttl);
        _zone.AddAddress(_zone.Name.Owner(name, nameof(name)), address, ttl);
    }

    /// <summary>Replaces every A and AAAA record of a name; with no addresses, removes them.</summary>
    /// <param name="name">The owner name, relative or absolute, inside the zone.</param>
    /// <param name="ttl">The TTL of every record.</param>
    /// <param name="addresses">The new addresses, IPv4 and IPv6 mixed.</param>
    public void SetAddresses(string name, TimeSpan ttl, params IPAddress[] addresses)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        CheckTtl(ttl);
        foreach (var address in addresses)
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
        }

        _zone.SetAddresses(_zone.Name.Owner(name, nameof(name)), ttl, addresses);
    }

    /// <summary>Removes one A or AAAA record, like Cloud Map deregistering an instance.</summary>
    /// <param name="name">The owner name.</param>
    /// <param name="address">The address to remove.</param>
    /// <returns>Whether the record existed.</returns>
    public bool RemoveAddress(string name, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return _zone.RemoveAddress(_zone.Name.Owner(name, nameof(name)), address);
    }

    /// <summary>Adds an SRV record.</summary>
    /// <remarks>
    /// Cloud Map publishes <c>1 1 port instance-id.service.namespace</c>; add the target's address with
    /// <see cref="AddAddress"/> so it appears in the additional section. A record with the same target and port is
    /// replaced. Replaces a CNAME at the name.
    /// </remarks>
    /// <param name="name">The owner name, for example <c>name</c> or <c>_http._tcp.name</c>.</param>
    /// <param name="priority">Lower is preferred.</param>
    /// <param name="weight">Relative weight among equal priorities.</param>
    /// <param name="port">The instance's port.</param>
    /// <param name="target">The instance's host name, relative or absolute (may be outside the zone).</param>
    /// <param name="ttl">The TTL.</param>
    public void AddService(string name, ushort priority, ushort weight, ushort port, string target, TimeSpan ttl)
    {
        CheckTtl(ttl);
        _zone.AddService(_zone.Name.Owner(name, nameof(name)), new ServiceEntry(priority, weight, port, _zone.Name.Target(target, nameof(target)), ttl));
    }

    /// <summary>Removes every SRV record of a name that points at <paramref name="target"/>.</summary>
    /// <param name="name">The owner name.</param>
    /// <param name="target">The target host name.</param>
    /// <returns>Whether any record was removed.</returns>
    public bool RemoveService(string name, string target) => _zone.RemoveService(_zone.Name.Owner(name, nameof(name)), _zone.Name.Target(target, nameof(target)));

    /// <summary>Makes <paramref name="alias"/> a CNAME for <paramref name="target"/>, removing the alias's other records (a CNAME cannot coexist with them).</summary>
    /// <param name="alias">The alias, inside the zone.</param>
    /// <param name="target">The canonical name; end it with a dot to point outside the zone.</param>
    /// <param name="ttl">The TTL.</param>
    public void SetCanonicalName(string alias, string target, TimeSpan ttl)
    {
        CheckTtl(ttl);
        _zone.SetCanonicalName(_zone.Name.Owner(alias, nameof(alias)), _zone.Name.Target(target, nameof(target)), ttl);
    }

    /// <summary>Removes every record of a name.</summary>
    /// <param name="name">The owner name.</param>
    /// <returns>Whether the name had records.</returns>
    public bool RemoveName(string name) => _zone.RemoveName(_zone.Name.Owner(name, nameof(name)));

    /// <summary>Removes every record (the zone's SOA stays).</summary>
    public void Clear() => _zone.Clear();

    /// <summary>Lists the zone's records in master-file format, for logs and test failure messages.</summary>
    /// <returns>One record a line, the SOA first.</returns>
    public string ExportZone() => _zone.Export();

    /// <summary>Gets how many queries asked about a name, counted as they arrive (also those that faults dropped).</summary>
    /// <param name="name">The name, relative or absolute; names outside the zone are counted too (end them with a dot).</param>
    /// <param name="type">Only questions of this type; <see langword="null"/> for all.</param>
    /// <returns>The count since the start or <see cref="ResetCounts"/>.</returns>
    public int GetQueryCount(string name, DnsRecordType? type = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _counters.Get(_zone.Name.Qualify(name), (ushort?)type);
    }

    /// <summary>Sets every query counter to zero.</summary>
    public void ResetCounts() => _counters.Reset();

    /// <summary>Makes the server misbehave.</summary>
    /// <remarks>
    /// A fault for the queried name wins over a global one; among faults of the same scope the oldest still armed
    /// applies. Queries are counted before faults apply.
    /// </remarks>
    /// <param name="fault">What to do.</param>
    /// <param name="name">Only for queries of this name (any type); <see langword="null"/> for every query.</param>
    /// <param name="count">For this many queries, then the fault disarms itself; <see langword="null"/> until <see cref="ClearFaults"/>.</param>
    /// <param name="type">Only for questions of this type (a SERVFAIL for AAAA while A answers, say); <see langword="null"/> for all.</param>
    public void InjectFault(DnsFault fault, string? name = null, int? count = null, DnsRecordType? type = null)
    {
        ArgumentNullException.ThrowIfNull(fault);
        if (count is { } n)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(n, 1, nameof(count));
        }

        _faults.Add(fault, name is null ? null : _zone.Name.Qualify(name), count, (ushort?)type);
    }

    /// <summary>Removes every injected fault.</summary>
    public void ClearFaults() => _faults.Clear();

    /// <summary>
    /// Closes the UDP and TCP sockets, like a name server that went away: UDP clients get ICMP port unreachable, TCP
    /// connects are refused, open connections are closed.
    /// </summary>
    /// <remarks>Records, faults and counters stay.</remarks>
    /// <returns>A task that completes when every socket is closed and every background task has ended.</returns>
    public Task StopAsync() => _sockets.StopAsync();

    /// <summary>Opens the sockets again on the same port (stopping first if running), keeping records, faults and counters.</summary>
    /// <returns>A task that completes when the server listens again.</returns>
    /// <exception cref="SocketException">Another socket took the port meanwhile.</exception>
    public Task RestartAsync() => _sockets.RestartAsync(this);

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _sockets.DisposeAsync().ConfigureAwait(false);

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public override string ToString() => $"DnsTestServer {Zone} on {EndPoint}";

    private static void CheckTtl(TimeSpan ttl) => ArgumentOutOfRangeException.ThrowIfLessThan(ttl, TimeSpan.Zero);
}
