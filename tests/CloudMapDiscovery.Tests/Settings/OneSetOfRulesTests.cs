using CloudMapDiscovery.Cli;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Dns;
using CloudMapDiscovery.Dns.Configuration;

namespace CloudMapDiscovery.Tests.Settings;

/// <summary>
/// A resolver setting is checked by one set of rules wherever it is written: the library's options, the resolver's
/// own options and the command line accept the same values and say the same thing, each under its own option name.
/// </summary>
public sealed class OneSetOfRulesTests
{
    // IPAddress.TryParse takes inet_aton shorthands: "5353" is 0.0.21.57, "127.1" is 127.0.0.1, "010.0.0.1" is octal.
    public static TheoryData<string> NotNameServers() => ["5353", "127.1", "10.1.2", "0x7f.0.0.1", "010.0.0.1", "4294967295", "1.2.3.4.5", "256.0.0.1", "1.2.3.4:0", "[10.0.0.1]:53", "::1:53x"];

    [Theory]
    [MemberData(nameof(NotNameServers))]
    public void Only_full_addresses_are_name_servers_and_the_error_names_the_option_and_the_value(string value)
    {
        NameServerAddress.TryParse(value, out _, out var error).Should().BeFalse($"'{value}' is no dotted-quad IPv4 or IPv6 address");
        error.Should().Contain($"'{value}'");

        var options = new CloudMapDiscoveryOptions { ServiceDiscoveryDomain = null };
        options.NameServers.Add(value);
        new CloudMapDiscoveryOptionsValidator().Validate(null, options).Failures
            .Should().ContainSingle().Which.Should().StartWith($"CloudMapDiscovery: NameServers: '{value}'");

        var resolverOptions = new DnsResolverOptions();
        resolverOptions.NameServers.Add(value);
        Action resolver = () => _ = new DnsResolver(resolverOptions);
        resolver.Should().Throw<ArgumentException>().Which.Message.Should().Contain($"NameServers: '{value}'");
    }

    [Theory]
    [MemberData(nameof(NotNameServers))]
    public async Task The_command_line_rejects_the_same_name_servers_with_the_same_message(string value)
    {
        var (exitCode, stderr) = await ResolveAsync("--server", value);

        exitCode.Should().Be(ExitCodes.Error);
        NameServerAddress.TryParse(value, out _, out var error).Should().BeFalse();
        stderr.Should().Contain($"--server: {error}");
    }

    public static TheoryData<string, string, string> CommandLineLimits() => new()
    {
        // option, value, the library's message for the same value (after the option's name)
        { "--timeout", "120", " must be more than 0 and at most 1 minute (was 00:02:00)." },
        { "--timeout", "0", " must be more than 0 and at most 1 minute (was 00:00:00)." },
        { "--attempts", "11", " must be from 1 to 10 (was 11)." },
        { "--attempts", "0", " must be from 1 to 10 (was 0)." },
    };

    [Theory]
    [MemberData(nameof(CommandLineLimits))]
    public async Task The_command_line_keeps_the_library_limits_and_words(string option, string value, string message)
    {
        var (exitCode, stderr) = await ResolveAsync(option, value);

        exitCode.Should().Be(ExitCodes.Error);
        stderr.Should().Contain(option + message);

        var options = new CloudMapDiscoveryOptions { ServiceDiscoveryDomain = null };
        var resolverOptions = new DnsResolverOptions();
        if (option == "--timeout")
        {
            options.DnsTimeout = resolverOptions.Timeout = TimeSpan.FromSeconds(int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        }
        else
        {
            options.DnsAttempts = resolverOptions.Attempts = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        var name = option == "--timeout" ? "Timeout" : "Attempts";
        new CloudMapDiscoveryOptionsValidator().Validate(null, options).Failures.Should().Equal($"CloudMapDiscovery: Dns{name}{message}");
        ResolverSettings.Validate(resolverOptions).Should().Equal(name + message);
    }

    [Theory]
    [InlineData("10.0.0.2")]
    [InlineData("10.0.0.2:5353")]
    [InlineData("[::1]:53")]
    [InlineData("::1")]
    public void Full_addresses_pass_everywhere(string value)
    {
        var options = new CloudMapDiscoveryOptions { ServiceDiscoveryDomain = null };
        options.NameServers.Add(value);
        new CloudMapDiscoveryOptionsValidator().Validate(null, options).Succeeded.Should().BeTrue();
        var resolverOptions = new DnsResolverOptions();
        resolverOptions.NameServers.Add(value);
        ResolverSettings.Validate(resolverOptions).Should().BeEmpty();
    }

    // A loopback port nothing serves, so that no query leaves the machine should the arguments be taken.
    private static async Task<(int ExitCode, string Stderr)> ResolveAsync(string option, string value)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        string[] server = option == "--server" ? [] : ["--server", "127.0.0.1:9"];
        var exitCode = await CliApp.RunAsync(["resolve", "name.internal.", .. server, option, value], stdout, stderr, TestContext.Current.CancellationToken);
        return (exitCode, stderr.ToString());
    }
}
