using System.Globalization;
using System.Net;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Bind;

/// <summary>
/// <see cref="DnsResolver"/> against a real BIND 9 serving a Cloud Map style zone (see <see cref="BindZone"/>).
/// The resolver is pointed only at the fixture's named and at an options-only resolv.conf, so the host's
/// DNS settings cannot leak in.
/// </summary>
[Collection(BindCollectionDefinition.Name)]
public sealed class BindResolverTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly BindServer _bind;

    public BindResolverTests(BindServer bind)
    {
        _bind = bind;
    }

    [Fact]
    public async Task A_query_returns_every_record_with_its_ttl_over_udp()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Three, DnsRecordType.A);

        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.IsNegative.Should().BeFalse();
        result.Transport.Should().Be(DnsTransport.Udp);
        result.Server.Should().Be(_bind.EndPoint);
        result.CanonicalNames.Should().BeEmpty();
        result.NegativeTtl.Should().BeNull();
        Texts(result.Addresses).Should().BeEquivalentTo(BindZone.ThreeAddresses);
        result.Addresses.Should().OnlyContain(a =>
            a.Ttl == TimeSpan.FromSeconds(BindZone.ThreeTtl) &&
            a.Type == DnsRecordType.A &&
            Same(a.Name, BindZone.Three));
        result.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.ThreeTtl));

        // Cross-check with dig against the same server.
        Texts(result.Addresses).Order(StringComparer.Ordinal)
            .Should().Equal(await _bind.DigShortAsync(BindZone.Three, "A"));
    }

    [Fact]
    public async Task Truncated_udp_answer_is_asked_again_over_tcp()
    {
        BindServer.SkipIfUnavailable();

        // Precondition, checked with raw bytes: with the resolver's 1232-byte EDNS payload, BIND truncates this answer.
        var udp = await RawDns.UdpExchangeAsync(_bind.EndPoint, RawDns.Query(0x7777, BindZone.Many, RawDns.A, ednsPayloadSize: 1232), TimeSpan.FromSeconds(5));
        RawDns.IsTruncated(udp).Should().BeTrue("150 A records do not fit in 1232 bytes");

        var result = await QueryAsync(BindZone.Many, DnsRecordType.A);

        result.Transport.Should().Be(DnsTransport.Tcp);
        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.Addresses.Should().HaveCount(150);
        Texts(result.Addresses).Should().BeEquivalentTo(BindZone.ManyAddresses);
        result.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(BindZone.ManyTtl));
        Texts(result.Addresses).Order(StringComparer.Ordinal)
            .Should().Equal(await _bind.DigShortAsync(BindZone.Many, "A"));
    }

    [Fact]
    public async Task Srv_query_returns_ports_targets_and_the_targets_addresses_from_the_additional_section()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Svc, DnsRecordType.SRV);

        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.IsNegative.Should().BeFalse();
        result.Addresses.Should().BeEmpty("an SRV answer carries its addresses on each service record");
        result.Services.Should().HaveCount(BindZone.SvcRecords.Count);
        foreach (var (target, port, address) in BindZone.SvcRecords)
        {
            var service = result.Services.Should().ContainSingle(s => Same(s.Target, target)).Subject;
            service.Port.Should().Be(port);
            service.Priority.Should().Be(1);
            service.Weight.Should().Be(1);
            service.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.SvcTtl));
            Same(service.Name, BindZone.Svc).Should().BeTrue();
            Texts(service.Addresses).Should().Equal(address);
            service.Addresses[0].Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.SvcTtl));
        }

        var dig = await _bind.DigShortAsync(BindZone.Svc, "SRV");
        dig.Should().BeEquivalentTo(result.Services.Select(s =>
            string.Create(CultureInfo.InvariantCulture, $"{s.Priority} {s.Weight} {s.Port} {s.Target.TrimEnd('.')}.")));
    }

    [Fact]
    public async Task Srv_target_outside_the_zone_is_resolved_with_a_follow_up_query()
    {
        BindServer.SkipIfUnavailable();

        // Precondition: BIND leaves the out-of-zone target out of the additional section.
        var raw = await RawDns.UdpExchangeAsync(_bind.EndPoint, RawDns.Query(0x7778, BindZone.Far, RawDns.Srv, ednsPayloadSize: 1232), TimeSpan.FromSeconds(5));
        RawDns.Counts(raw).Additional.Should().Be(1, "only the OPT record, no A record for the target");

        var result = await QueryAsync(BindZone.Far, DnsRecordType.SRV);

        var service = result.Services.Should().ContainSingle().Subject;
        Same(service.Target, BindZone.FarTarget).Should().BeTrue();
        service.Port.Should().Be(BindZone.FarPort);
        Texts(service.Addresses).Should().Equal(BindZone.FarAddress);
    }

    [Fact]
    public async Task Aaaa_query_returns_ipv6_addresses()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.V6, DnsRecordType.AAAA);

        result.IsNegative.Should().BeFalse();
        result.Addresses.Should().OnlyContain(a => a.Type == DnsRecordType.AAAA && a.Ttl == TimeSpan.FromSeconds(BindZone.V6Ttl));
        result.Addresses.Select(a => a.Address).Should().BeEquivalentTo(BindZone.V6Addresses.Select(IPAddress.Parse));
        (await _bind.DigShortAsync(BindZone.V6, "AAAA")).Select(IPAddress.Parse)
            .Should().BeEquivalentTo(result.Addresses.Select(a => a.Address));
    }

    [Fact]
    public async Task A_and_aaaa_of_a_dual_stack_name_are_separate_questions()
    {
        BindServer.SkipIfUnavailable();

        var v4 = await QueryAsync(BindZone.Both, DnsRecordType.A);
        var v6 = await QueryAsync(BindZone.Both, DnsRecordType.AAAA);

        Texts(v4.Addresses).Should().Equal(BindZone.BothV4);
        v6.Addresses.Select(a => a.Address).Should().Equal(IPAddress.Parse(BindZone.BothV6));
    }

    [Fact]
    public async Task Cname_chain_is_followed_and_reported_link_by_link()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Alias1, DnsRecordType.A);

        result.CanonicalNames.Should().HaveCount(2);
        Same(result.CanonicalNames[0].Name, BindZone.Alias1).Should().BeTrue();
        Same(result.CanonicalNames[0].Target, BindZone.Alias2).Should().BeTrue();
        result.CanonicalNames[0].Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.Alias1Ttl));
        Same(result.CanonicalNames[1].Name, BindZone.Alias2).Should().BeTrue();
        Same(result.CanonicalNames[1].Target, BindZone.Three).Should().BeTrue();
        result.CanonicalNames[1].Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.Alias2Ttl));
        Same(result.CanonicalName, BindZone.Three).Should().BeTrue();
        Texts(result.Addresses).Should().BeEquivalentTo(BindZone.ThreeAddresses);
        result.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.ThreeTtl), "the smallest TTL along the chain");

        // dig +short lists the chain's targets, then the addresses.
        var dig = await _bind.DigShortAsync(BindZone.Alias1, "A");
        dig.Should().BeEquivalentTo(BindZone.ThreeAddresses.Concat([BindZone.Alias2 + ".", BindZone.Three + "."]));
    }

    [Fact]
    public async Task Nxdomain_is_a_negative_answer_with_the_soa_negative_ttl()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Missing, DnsRecordType.A);

        result.IsNegative.Should().BeTrue();
        result.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        result.Addresses.Should().BeEmpty();
        result.Services.Should().BeEmpty();
        result.NegativeTtl.Should().Be(TimeSpan.FromSeconds(BindZone.NegativeTtlSeconds));
        result.Ttl.Should().Be(TimeSpan.FromSeconds(BindZone.NegativeTtlSeconds));
        (await _bind.DigAsync($"{BindZone.Missing} A")).Should().Contain("status: NXDOMAIN");
    }

    [Fact]
    public async Task Nodata_is_a_negative_answer_with_no_error_code()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Three, DnsRecordType.AAAA);

        result.IsNegative.Should().BeTrue();
        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.Addresses.Should().BeEmpty();
        result.NegativeTtl.Should().Be(TimeSpan.FromSeconds(BindZone.NegativeTtlSeconds));
        (await _bind.DigShortAsync(BindZone.Three, "AAAA")).Should().BeEmpty();
    }

    [Fact]
    public async Task Srv_question_for_a_name_without_srv_records_is_nodata()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Three, DnsRecordType.SRV);

        result.IsNegative.Should().BeTrue();
        result.ResponseCode.Should().Be(DnsResponseCode.NoError);
        result.Services.Should().BeEmpty();
        result.NegativeTtl.Should().Be(TimeSpan.FromSeconds(BindZone.NegativeTtlSeconds));
    }

    [Fact]
    public async Task Ttl_zero_is_reported_as_zero()
    {
        BindServer.SkipIfUnavailable();

        var result = await QueryAsync(BindZone.Ttl0, DnsRecordType.A);

        Texts(result.Addresses).Should().Equal(BindZone.Ttl0Address);
        result.Addresses[0].Ttl.Should().Be(TimeSpan.Zero);
        result.Ttl.Should().Be(TimeSpan.Zero);
    }

    [Fact]
    public async Task Name_outside_the_servers_zones_fails_with_refused_from_every_attempt()
    {
        BindServer.SkipIfUnavailable();

        // Recursion is off, so BIND refuses names it is not authoritative for.
        var act = async () => await QueryAsync("name.example", DnsRecordType.A);

        var error = (await act.Should().ThrowAsync<DnsResolutionException>()).Which;
        error.Attempts.Should().NotBeEmpty();
        error.Attempts.Should().OnlyContain(a => a.Outcome == DnsAttemptOutcome.Refused && a.Server.Equals(_bind.EndPoint));
        error.Message.Should().Contain(_bind.EndPoint.ToString());
    }

    [Fact]
    public async Task Records_added_and_removed_with_nsupdate_are_seen_at_once()
    {
        BindServer.SkipIfUnavailable();
        var name = $"added-{Guid.NewGuid():N}.internal";

        (await QueryAsync(name, DnsRecordType.A)).ResponseCode.Should().Be(DnsResponseCode.NXDomain);

        await _bind.AddRecordAsync(name, 5, "A", "127.0.0.9");
        await _bind.AddRecordAsync(name, 5, "A", "127.0.0.10");
        try
        {
            var added = await QueryAsync(name, DnsRecordType.A);
            added.IsNegative.Should().BeFalse();
            Texts(added.Addresses).Should().BeEquivalentTo("127.0.0.9", "127.0.0.10");
            added.Addresses.Should().OnlyContain(a => a.Ttl == TimeSpan.FromSeconds(5));
            (await _bind.DigShortAsync(name, "A")).Should().Equal("127.0.0.10", "127.0.0.9");

            // A task leaves: one record removed.
            await _bind.RemoveRecordAsync(name, "A", "127.0.0.9");
            Texts((await QueryAsync(name, DnsRecordType.A)).Addresses).Should().Equal("127.0.0.10");
        }
        finally
        {
            await _bind.RemoveRecordAsync(name, "A");
        }

        // The last one gone: the name no longer exists (Cloud Map's "no instances").
        var removed = await QueryAsync(name, DnsRecordType.A);
        removed.IsNegative.Should().BeTrue();
        removed.ResponseCode.Should().Be(DnsResponseCode.NXDomain);
        removed.NegativeTtl.Should().Be(TimeSpan.FromSeconds(BindZone.NegativeTtlSeconds));
    }

    [Fact]
    public async Task Srv_instance_registered_at_run_time_comes_with_its_address()
    {
        BindServer.SkipIfUnavailable();
        var service = $"svc-{Guid.NewGuid():N}.internal";
        var target = "task-c." + service;

        await _bind.AddRecordAsync(target, 10, "A", "127.0.0.13");
        await _bind.AddRecordAsync(service, 10, "SRV", $"1 1 3002 {target}.");
        try
        {
            var result = await QueryAsync(service, DnsRecordType.SRV);

            var record = result.Services.Should().ContainSingle().Subject;
            record.Port.Should().Be(3002);
            Same(record.Target, target).Should().BeTrue();
            Texts(record.Addresses).Should().Equal("127.0.0.13");
        }
        finally
        {
            await _bind.RemoveRecordAsync(service, "SRV");
            await _bind.RemoveRecordAsync(target, "A");
        }
    }

    private async Task<DnsQueryResult> QueryAsync(string name, DnsRecordType type)
    {
        var options = new DnsResolverOptions
        {
            ResolvConfPath = _bind.ResolvConfPath,
            Ndots = 1,
            Timeout = TimeSpan.FromSeconds(2),
            Attempts = 2,
        };
        options.NameServers.Add(_bind.NameServer);
        var resolver = new DnsResolver(options);
        using var cts = new CancellationTokenSource(Timeout);
        return await resolver.QueryAsync(name, type, cts.Token);
    }

    private static IEnumerable<string> Texts(IEnumerable<DnsAddressRecord> records) => records.Select(r => r.Address.ToString());

    // The library may or may not keep the trailing dot of absolute names; compare without it.
    private static bool Same(string actual, string expected) =>
        string.Equals(actual.TrimEnd('.'), expected.TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
}
