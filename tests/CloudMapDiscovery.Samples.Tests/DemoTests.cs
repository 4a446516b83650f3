using System.Text;
using CloudMapDiscovery.Samples.Demo;

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>The demo as CI runs it: non-interactive, and it must meet every act's expectation.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task The_demo_plays_all_eleven_acts_and_exits_0()
    {
        var output = new StringWriter(new StringBuilder());
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var code = await DemoApp.RunAsync(["--plain", "--hello-port", "0", "--name-port", "0", "--dns-port", "0"], TextWriter.Synchronized(output), timeout.Token);
        var text = output.ToString();
        code.Should().Be(0, text);
        text.Should().Contain("All 11 acts met their expectations");
        for (var act = 1; act <= 11; act++)
        {
            text.Should().Contain($"act {act} PASSED");
        }

        text.Should().Contain("12 of 12 tasks served requests", "the API act reaches more tasks than a DNS answer holds");
    }

    [Fact]
    public async Task Help_prints_usage_and_bad_options_exit_2()
    {
        var output = new StringWriter();
        (await DemoApp.RunAsync(["--help"], output, TestContext.Current.CancellationToken)).Should().Be(0);
        output.ToString().Should().Contain("--keep-running");
        (await DemoApp.RunAsync(["--nope"], new StringWriter(), TestContext.Current.CancellationToken)).Should().Be(2);
    }
}
