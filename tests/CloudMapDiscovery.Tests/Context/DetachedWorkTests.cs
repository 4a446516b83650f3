using System.Diagnostics;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Tests.Context;

/// <summary>
/// Background work (refreshes, the sweeper's timer, probes) runs without the context of the request that started it:
/// otherwise the first request's trace and scoped state would ride along with every later sweep and keep them alive.
/// </summary>
public sealed class DetachedWorkTests
{
    private static readonly AsyncLocal<string?> RequestScope = new();

    [Fact]
    public async Task A_timer_started_by_a_request_runs_without_its_scope_or_trace()
    {
        using var context = new CloudMapContext(TimeProvider.System);
        var seen = new TaskCompletionSource<(string? Scope, Activity? Activity)>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var activity = new Activity("request").Start();
        RequestScope.Value = "request 1";

        using var timer = context.CreateDetachedTimer(_ => seen.TrySetResult((RequestScope.Value, Activity.Current)), new object(), TimeSpan.Zero);

        var (scope, current) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        scope.Should().BeNull();
        current.Should().BeNull();
    }

    [Fact]
    public async Task Work_run_detached_does_not_see_the_callers_scope()
    {
        RequestScope.Value = "request 2";

        var scope = await RunAsync();

        scope.Should().BeNull();
    }

    [Fact]
    public async Task A_caller_that_already_suppressed_flow_can_start_background_work()
    {
        Task<string?> work;
        ITimer timer;
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var context = new CloudMapContext(TimeProvider.System);
        using (ExecutionContext.SuppressFlow())
        {
            // ExecutionContext.SuppressFlow throws when flow is already suppressed: these must not call it again.
            work = RunAsync();
            timer = context.CreateDetachedTimer(_ => fired.TrySetResult(), new object(), TimeSpan.Zero);
        }

        using (timer)
        {
            (await work.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken)).Should().BeNull();
            await fired.Task.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        }
    }

    private static Task<string?> RunAsync()
    {
        string? seen = "not run";
        return CloudMapContext.RunDetached(() =>
        {
            seen = RequestScope.Value;
            return Task.CompletedTask;
        }).ContinueWith<string?>(_ => seen, TaskScheduler.Default);
    }
}
