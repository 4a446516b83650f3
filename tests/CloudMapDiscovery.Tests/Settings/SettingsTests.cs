using System.Reflection;
using CloudMapDiscovery.DependencyInjection;
using CloudMapDiscovery.Testing;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Settings;

/// <summary>
/// Options become nested settings records in one place, and caches are shared by equality of those records: an
/// option that is forgotten there would make two clients share a cache they must not share.
/// </summary>
public sealed class SettingsTests
{
    public static TheoryData<string> Options() => [.. typeof(CloudMapDiscoveryOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => p.Name)];

    [Theory]
    [MemberData(nameof(Options))]
    public void Every_option_changes_the_settings(string option)
    {
        var a = new CloudMapDiscoveryOptions();
        var b = new CloudMapDiscoveryOptions();
        Change(b, typeof(CloudMapDiscoveryOptions).GetProperty(option)!);

        CloudMapSettings.From(a).Should().Be(CloudMapSettings.From(new CloudMapDiscoveryOptions()), "equal options give equal settings");
        CloudMapSettings.From(b).Should().NotBe(CloudMapSettings.From(a), $"{option} must reach the settings");
    }

    [Fact]
    public void Equal_options_share_caches_and_options_that_differ_in_one_layer_share_the_layers_below()
    {
        using var registries = new Registries(new TestClock());
        CloudMapDiscoveryOptions Make(Action<CloudMapDiscoveryOptions>? change = null)
        {
            var o = new CloudMapDiscoveryOptions();
            o.NameServers.Add("127.0.0.1:53");
            o.HostSuffixes.Add("internal");
            change?.Invoke(o);
            return o;
        }

        var first = registries.GetBalancers(Make());
        registries.GetBalancers(Make()).Should().BeSameAs(first, "lists compare by their items");

        var otherEjection = registries.GetBalancers(Make(o => o.BaseEjectionTime = TimeSpan.FromSeconds(3)));
        otherEjection.Should().NotBeSameAs(first, "health judged differently is kept apart");
        otherEjection.Resolutions.Should().BeSameAs(first.Resolutions, "but the DNS answers are the same");

        var serverErrors = registries.GetBalancers(Make(o => o.ConsecutiveServerErrors = 0));
        serverErrors.Should().NotBeSameAs(first, "a 5xx counts as a failure only for clients that count them");
        serverErrors.Resolutions.Should().BeSameAs(first.Resolutions);

        var otherHttp = registries.GetBalancers(Make(o => (o.MaxAttempts, o.HostSuffixes[0], o.LoadBalancer) = (5, "local", LoadBalancingPolicy.PeakEwma)));
        otherHttp.Should().BeSameAs(first, "HTTP settings are the handler's, not the caches'");

        registries.GetBalancers(Make(o => o.NameServers[0] = "127.0.0.1:54")).Resolutions.Should().NotBeSameAs(first.Resolutions);
    }

    private static void Change(CloudMapDiscoveryOptions options, PropertyInfo property)
    {
        var type = property.PropertyType;
        if (type == typeof(IList<string>))
        {
            ((IList<string>)property.GetValue(options)!).Add("127.0.0.9");
        }
        else if (type == typeof(TimeSpan) || type == typeof(TimeSpan?))
        {
            var current = (TimeSpan?)property.GetValue(options) ?? TimeSpan.Zero;
            property.SetValue(options, current + TimeSpan.FromSeconds(1));
        }
        else if (type == typeof(int) || type == typeof(int?))
        {
            property.SetValue(options, ((int?)property.GetValue(options) ?? 0) + 1);
        }
        else if (type == typeof(bool))
        {
            property.SetValue(options, !(bool)property.GetValue(options)!);
        }
        else if (type == typeof(string))
        {
            property.SetValue(options, property.GetValue(options) + "x.example");
        }
        else if (type == typeof(DiscoveryRecordTypes))
        {
            property.SetValue(options, DiscoveryRecordTypes.Srv);
        }
        else if (type == typeof(CloudMapEndpointSourceKind))
        {
            property.SetValue(options, CloudMapEndpointSourceKind.Api);
        }
        else if (type == typeof(double))
        {
            property.SetValue(options, (double)property.GetValue(options)! / 2);
        }
        else if (type == typeof(LoadBalancingPolicy))
        {
            property.SetValue(options, LoadBalancingPolicy.PeakEwma);
        }
        else
        {
            throw new InvalidOperationException($"Teach this test how to change an option of type {type} ({property.Name}).");
        }
    }
}
