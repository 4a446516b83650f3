using System.Globalization;

namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>Act 1: requests spread evenly over the first three name tasks.</summary>
internal sealed class SteadyStateAct : IDemoAct
{
    public async Task PlayAsync(DemoRun run, CancellationToken ct)
    {
        var act = run.Begin(1, "Steady state", "requests spread evenly over 127.0.0.2, .3 and .4", ActPolicy.Strict);
        await Task.Delay(TimeSpan.FromSeconds(5), ct);
        run.End(act, () =>
        {
            var served = act.ServedBy();
            var total = Math.Max(1, served.Values.Sum());
            var shares = DemoRun.FirstTasks.Select(ip => (double)served.GetValueOrDefault(ip) / total).ToArray();
            var even = shares.All(s => s is > 0.25 and < 0.42);
            return (even, $"shares {string.Join(" / ", shares.Select(s => s.ToString("P0", CultureInfo.InvariantCulture)))}");
        });
    }
}
