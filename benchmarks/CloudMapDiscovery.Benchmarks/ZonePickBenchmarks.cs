using System.Net;
using BenchmarkDotNet.Attributes;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Balancing.Zones;
using CloudMapDiscovery.Discovery;

namespace CloudMapDiscovery.Benchmarks;

/// <summary>
/// What the zone step adds to a pick: 3 zones x 3 endpoints, the caller in zone a, then EndpointPicker with round robin over what it chooses.
/// Target: a few nanoseconds over the plain pick and no allocation (the split is made once per set, never per pick).
/// </summary>
[MemoryDiagnoser]
public class ZonePickBenchmarks
{
    private static readonly string[] Zones = ["eu-west-1a", "eu-west-1a", "eu-west-1a", "eu-west-1b", "eu-west-1b", "eu-west-1b", "eu-west-1c", "eu-west-1c", "eu-west-1c"];
    private readonly TimeProvider _clock = TimeProvider.System;
    private BalancedEndpoint[] _all = [];
    private ZonePlan _plan = ZonePlan.None;
    private uint _counter;

    [GlobalSetup]
    public void Setup()
    {
        _all = [.. Zones.Select((zone, i) => new BalancedEndpoint(new EndpointAddress(IPAddress.Parse($"10.0.{i / 3}.{i + 2}"), 8080))
        {
            Instance = new EndpointInstance($"task-{i}", new Dictionary<string, string> { [EndpointInstance.ZoneAttribute] = zone }),
        })];
        _plan = ZonePlanner.Plan(_all, new ZoneSettings(true, "eu-west-1a", null, 6, 2), new CallerLocation("eu-west-1a", null, "configuration"), string.Empty);
    }

    /// <summary>Round robin over every endpoint (zone routing off).</summary>
    [Benchmark(Baseline = true)]
    public object? PickAll() => EndpointPicker.Pick(_all, ref _counter, RoundRobinPolicy.Instance, null, panic: true, _clock, null);

    /// <summary>The zone step (count the local zone's available endpoints up to ZoneMinHealthyLocal), then round robin over its choice.</summary>
    [Benchmark]
    public object? PickZoneAware() => EndpointPicker.Pick(_plan.Candidates(_all, null, _clock, null), ref _counter, RoundRobinPolicy.Instance, null, panic: true, _clock, null);
}
