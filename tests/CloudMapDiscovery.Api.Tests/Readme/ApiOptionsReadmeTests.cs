using CloudMapDiscovery.Api.Source;
using CloudMapDiscovery.Tests.Readme;
using Microsoft.Extensions.Time.Testing;

namespace CloudMapDiscovery.Api.Tests.Readme;

/// <summary>What the README's <c>CloudMapDiscovery:Api</c> options table promises, checked against the package.</summary>
public sealed class ApiOptionsReadmeTests
{
    /// <summary>Each row of the README's API options table: the default it states, and that default on the options.</summary>
    private static readonly Dictionary<string, (string Stated, Func<CloudMapApiOptions, bool> Holds)> Defaults = new(StringComparer.Ordinal)
    {
        ["`Region`"] = ("`AWS_REGION`, else `AWS_DEFAULT_REGION`", o => o.Region == (Variable("AWS_REGION") ?? Variable("AWS_DEFAULT_REGION"))),
        ["`ServiceUrl`"] = ("`https://data-servicediscovery.<Region>.amazonaws.com/`", o => o.ServiceUrl is null
            && ApiSettings.From(new CloudMapApiOptions { Region = "eu-west-1" }).Endpoint == new Uri("https://data-servicediscovery.eu-west-1.amazonaws.com/")),
        ["`HealthStatus`"] = ("`HEALTHY_OR_ELSE_ALL`", o => o.HealthStatus == "HEALTHY_OR_ELSE_ALL"),
        ["`QueryParameters` / `OptionalParameters`"] = ("none", o => o.QueryParameters.Count == 0 && o.OptionalParameters.Count == 0),
        ["`OwnerAccount`"] = ("this account", o => o.OwnerAccount is null),
        ["`HealthRefreshInterval`"] = ("30 s", o => o.HealthRefreshInterval == TimeSpan.FromSeconds(30)),
        ["`MaxCallsPerSecond`"] = ("10 (bursts of 20)", o => o.MaxCallsPerSecond == 10 && Burst(o.MaxCallsPerSecond) == 20),
        ["`Timeout`"] = ("5 s", o => o.Timeout == TimeSpan.FromSeconds(5)),
    };

    [Fact]
    public void Every_default_in_the_README_api_options_table_is_the_options_default()
    {
        ReadmeOptionsTable.ShouldStateTheDefaults("Options, under `CloudMapDiscovery:Api`", "**Refresh by revision.**", Defaults, new CloudMapApiOptions());
    }

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    /// <summary>How many calls a fresh budget at <paramref name="rate"/> allows before the clock moves.</summary>
    private static int Burst(double rate)
    {
        var budget = new ApiCallBudget(new FakeTimeProvider(), rate);
        var calls = 0;
        while (calls < 1_000 && budget.TryTake())
        {
            calls++;
        }

        return calls;
    }
}
