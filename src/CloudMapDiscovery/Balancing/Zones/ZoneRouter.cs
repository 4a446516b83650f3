using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>One balancer's zone routing: the plan of each new set, and the log line when routing turns on or off for its name.</summary>
/// <remarks>
/// Called under the balancer's lock only. The caller's zone is asked for once some endpoint has a zone (DNS never gives
/// one); until it is known the plan is off, and <c>replan</c> gives the balancer's current set a new plan when it is.
/// </remarks>
internal sealed class ZoneRouter(ZoneSettings settings, CallerZone? callerZone, CloudMapContext context, string host, Action replan)
{
    private bool _awaitingCallerZone;

    public ZonePlan Plan(BalancedEndpoint[] endpoints, ZonePlan previous)
    {
        var caller = settings.Configured;
        var why = settings.Enabled ? "this process's zone is not known yet" : "ZoneAware is off";
        if (caller is null && callerZone is not null && settings.Enabled && endpoints.Any(e => e.Instance?.Zone is not null))
        {
            var detected = callerZone.Detect();
            if (detected.IsCompletedSuccessfully)
            {
                caller = detected.Result;
                why = "this process's zone is unknown (set CloudMapDiscovery:Zone)";
            }
            else if (!_awaitingCallerZone)
            {
                _awaitingCallerZone = true;
                detected.ContinueWith(_ => replan(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }

        var plan = ZonePlanner.Plan(endpoints, settings, caller, why);
        if (plan.Active != previous.Active || (plan.Reason is not null && previous.Reason is null))
        {
            if (plan.Active)
            {
                Log.ZoneRoutingOn(context.Logger, host, plan.Local.Length, endpoints.Length, plan.CallerZone!, settings.MinHealthyLocal);
            }
            else if (plan.Reason is not null)
            {
                Log.ZoneRoutingOff(context.Logger, host, plan.Reason);
            }
        }

        return plan;
    }
}
