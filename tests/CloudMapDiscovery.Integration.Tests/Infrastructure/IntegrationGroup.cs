namespace CloudMapDiscovery.Integration.Tests.Infrastructure;

/// <summary>
/// The tests run one at a time: each starts real Kestrel tasks, and several wait out a connect timeout or an attempt
/// timeout, which on a two-core machine must not compete with the other tests for the CPU.
/// </summary>
[CollectionDefinition(Name)]
public sealed class IntegrationGroup
{
    public const string Name = "Integration";
}
