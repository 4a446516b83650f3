using CloudMapDiscovery.DependencyInjection;
namespace CloudMapDiscovery.Tests.Discovery;

public sealed class OptionsValidationTests
{
    public static TheoryData<string, Action<CloudMapDiscoveryOptions>> BadValues => new()
    {
        { "NameServers", o => o.NameServers.Add("not an address") },
        { "NameServers", o => o.NameServers.Add("127.0.0.1:99999") },
        { "DnsTimeout", o => o.DnsTimeout = TimeSpan.Zero },
        { "DnsTimeout", o => o.DnsTimeout = TimeSpan.FromMinutes(2) },
        { "DnsAttempts", o => o.DnsAttempts = 0 },
        { "DnsAttempts", o => o.DnsAttempts = 11 },
        { "RecordTypes", o => o.RecordTypes = (DiscoveryRecordTypes)42 },
        { "MinTtl", o => o.MinTtl = TimeSpan.Zero },
        { "MinTtl", o => o.MinTtl = TimeSpan.FromSeconds(-1) },
        { "MaxTtl", o => o.MaxTtl = TimeSpan.Zero },
        { "MaxTtl", o => o.MaxTtl = TimeSpan.FromSeconds(2) }, // below MinTtl (5 s)
        { "MaxStale", o => o.MaxStale = TimeSpan.FromSeconds(-1) },
        { "NegativeTtlCap", o => o.NegativeTtlCap = TimeSpan.Zero },
        { "IdleTimeout", o => o.IdleTimeout = TimeSpan.Zero },
        { "MultiValueRetention", o => o.MultiValueRetention = TimeSpan.FromSeconds(-1) },
        { "MultiValueAnswerLimit", o => o.MultiValueAnswerLimit = 0 },
        { "ConsecutiveConnectFailures", o => o.ConsecutiveConnectFailures = 0 },
        { "ConsecutiveFailures", o => o.ConsecutiveFailures = 0 },
        { "BaseEjectionTime", o => o.BaseEjectionTime = TimeSpan.Zero },
        { "MaxEjectionTime", o => o.MaxEjectionTime = TimeSpan.FromSeconds(1) }, // below BaseEjectionTime (10 s)
        { "MaxAttempts", o => o.MaxAttempts = 0 },
        { "MaxAttempts", o => o.MaxAttempts = 11 },
        { "ConnectTimeout", o => o.ConnectTimeout = TimeSpan.Zero },
        { "ConnectTimeout", o => o.ConnectTimeout = TimeSpan.FromDays(25) }, // past int.MaxValue ms: SocketsHttpHandler would throw on every request
        { "MaxEjectionTime", o => o.MaxEjectionTime = TimeSpan.MaxValue },
        { "HostSuffixes", o => o.HostSuffixes.Add(" ") },
        { "HostSuffixes", o => o.HostSuffixes.Add("..") },
        { "ServiceDiscoveryDomain", o => o.ServiceDiscoveryDomain = "." },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void Each_bad_value_fails_with_a_message_naming_the_property(string property, Action<CloudMapDiscoveryOptions> makeBad)
    {
        var options = Valid();
        makeBad(options);

        var result = new CloudMapDiscoveryOptionsValidator().Validate(null, options);

        result.Failed.Should().BeTrue();
        result.Failures.Should().NotBeEmpty()
            .And.OnlyContain(f => f.StartsWith($"CloudMapDiscovery: {property}", StringComparison.Ordinal), "only {0} is bad", property);
    }

    [Fact]
    public void Defaults_and_edge_values_that_are_allowed_pass()
    {
        var options = Valid();
        options.NameServers.Add("127.0.0.1");
        options.NameServers.Add("127.0.0.53:5353");
        options.MaxStale = TimeSpan.Zero;
        options.MultiValueRetention = TimeSpan.Zero;
        options.MaxTtl = options.MinTtl;
        options.MaxEjectionTime = options.BaseEjectionTime;
        options.ConnectTimeout = Timeout.InfiniteTimeSpan;
        options.HostSuffixes.Add("internal");

        new CloudMapDiscoveryOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public void Every_bad_value_is_reported_at_once_with_the_client_name()
    {
        var options = Valid();
        options.MinTtl = TimeSpan.Zero;
        options.ConsecutiveFailures = 0;
        options.MaxAttempts = 0;

        var result = new CloudMapDiscoveryOptionsValidator().Validate("orders", options);

        result.Failures.Should().HaveCount(3).And.OnlyContain(f => f.StartsWith("CloudMapDiscovery (client 'orders'): ", StringComparison.Ordinal));
        result.FailureMessage.Should().Contain("MinTtl").And.Contain("ConsecutiveFailures").And.Contain("MaxAttempts");
    }

    public static TheoryData<string> TimeOptions() =>
    [
        .. typeof(CloudMapDiscoveryOptions).GetProperties()
            .Where(p => p.PropertyType == typeof(TimeSpan) || p.PropertyType == typeof(TimeSpan?))
            .Select(p => p.Name),
    ];

    [Theory]
    [MemberData(nameof(TimeOptions))]
    public void Every_time_option_rejects_the_extremes_with_its_own_name_and_range(string property)
    {
        foreach (var extreme in new[] { TimeSpan.MaxValue, TimeSpan.MinValue, TimeSpan.FromTicks(-1) })
        {
            var options = Valid();
            typeof(CloudMapDiscoveryOptions).GetProperty(property)!.SetValue(options, extreme);

            var result = new CloudMapDiscoveryOptionsValidator().Validate(null, options);

            result.Failed.Should().BeTrue($"{property} = {extreme} is out of range");
            result.Failures.Should().Contain(f => f.StartsWith($"CloudMapDiscovery: {property} must be", StringComparison.Ordinal) && f.Contains("at most", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_longest_connect_timeout_allowed_is_one_SocketsHttpHandler_accepts()
    {
        var options = Valid();
        options.ConnectTimeout = TimeSpan.FromMilliseconds(int.MaxValue);
        new CloudMapDiscoveryOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();

        var accepts = () => new SocketsHttpHandler().ConnectTimeout = options.ConnectTimeout.Value;
        accepts.Should().NotThrow();
        var tooLong = () => new SocketsHttpHandler().ConnectTimeout = options.ConnectTimeout.Value + TimeSpan.FromMilliseconds(1);
        tooLong.Should().Throw<ArgumentOutOfRangeException>("the validator's limit is the consumer's limit");
    }

    private static CloudMapDiscoveryOptions Valid() => new() { ServiceDiscoveryDomain = null };
}
