using CloudMapDiscovery.Diagnostics;
using CloudMapDiscovery.Shared;

namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>The process's own Availability Zone, detected once in the background when a service first shows zones.</summary>
/// <remarks>
/// Requests never wait for it: until it is known (and if it never is) zone routing is off. When no source answers,
/// that is logged once for the process, as a warning, never as a request error.
/// </remarks>
internal sealed class CallerZone
{
    private readonly ZoneDetector _detector;
    private readonly CloudMapContext _context;
    private readonly object _gate = new();
    private Task<CallerLocation?>? _detected;

    public CallerZone(ZoneDetectorSettings settings, CloudMapContext context)
    {
        _detector = new ZoneDetector(settings, context.Clock);
        _context = context;
    }

    /// <summary>The detection, started by the first call (the same task afterwards).</summary>
    public Task<CallerLocation?> Detect()
    {
        lock (_gate)
        {
            return _detected ??= DetectDetachedAsync();
        }
    }

    private async Task<CallerLocation?> DetectDetachedAsync()
    {
        CallerLocation? found = null;
        await CloudMapContext.RunDetached(async () =>
        {
            try
            {
                var (location, tried) = await _detector.DetectAsync(_context.ShutdownToken).ConfigureAwait(false);
                if (location is null)
                {
                    Log.CallerZoneUnknown(_context.Logger, tried);
                }
                else
                {
                    Log.CallerZoneFound(_context.Logger, location.Zone, location.ZoneId ?? "unknown", location.Source);
                }

                found = location;
            }
            catch (OperationCanceledException)
            {
                // shutting down: no zone, nothing to say
            }
#pragma warning disable CA1031 // whatever went wrong, routing stays off and requests never see it
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.CallerZoneUnknown(_context.Logger, e.Message);
            }
        }).ConfigureAwait(false);
        return found;
    }
}
