using System.Net;
using Microsoft.Extensions.Logging;

namespace CloudMapDiscovery.Testing;

/// <summary>Settings for <see cref="DnsTestServer.StartAsync(DnsTestServerOptions, CancellationToken)"/>.</summary>
public sealed class DnsTestServerOptions
{
    /// <summary>
    /// Gets or sets the zone the server is authoritative for, for example <c>internal</c> (a Cloud Map private DNS
    /// namespace); default <c>internal</c>.
    /// </summary>
    public string Zone { get; set; } = "internal";

    /// <summary>Gets or sets the address to listen on; default <see cref="IPAddress.Loopback"/>.</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>Gets or sets the port for both UDP and TCP; 0 (the default) picks a free ephemeral port.</summary>
    public int Port { get; set; }

    /// <summary>
    /// Gets or sets the clock that <see cref="DnsFault.Delay(TimeSpan)"/> faults wait on; pass a manual clock to
    /// control delays from a test; default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the UDP payload size the server advertises in its OPT record; default 1232.</summary>
    public int UdpPayloadSize { get; set; } = 1232;

    /// <summary>Gets or sets where each query and its outcome are logged (at Information); default: nowhere.</summary>
    public ILogger? Logger { get; set; }
}
