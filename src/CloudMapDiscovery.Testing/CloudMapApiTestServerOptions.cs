using System.Net;

namespace CloudMapDiscovery.Testing;

/// <summary>Settings of a <see cref="CloudMapApiTestServer"/>.</summary>
public sealed class CloudMapApiTestServerOptions
{
    /// <summary>Gets or sets the loopback address to listen on (default 127.0.0.1).</summary>
    public IPAddress Address { get; set; } = IPAddress.Loopback;

    /// <summary>Gets or sets the TCP port; 0 (the default) takes a free one.</summary>
    public int Port { get; set; }

    /// <summary>Gets or sets the clock of <see cref="CloudMapApiFaultKind.Delay"/> faults (tests pass a FakeTimeProvider).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the account that owns the namespaces; a call naming another <c>OwnerAccount</c> finds no namespace.</summary>
    public string AccountId { get; set; } = "123456789012";

    /// <summary>Gets the access key ids the server accepts; empty (the default) accepts any well-formed signature.</summary>
    /// <remarks>A call signed with another key gets HTTP 403 <c>UnrecognizedClientException</c>, as AWS answers an unknown key.</remarks>
    public ISet<string> AccessKeyIds { get; } = new HashSet<string>(StringComparer.Ordinal);
}
