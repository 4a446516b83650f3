using System.Diagnostics;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>Waiting for what another thread or a socket makes true (compiled into the ServiceDiscovery tests too).</summary>
internal static class Poll
{
    /// <summary>Polls <paramref name="condition"/>; it never waits for the code under test's own time to pass, only for work in flight.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"Gave up waiting for {what}.");
            }

            await Task.Delay(1);
        }
    }
}
