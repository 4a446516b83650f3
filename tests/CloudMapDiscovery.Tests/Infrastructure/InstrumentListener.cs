using System.Diagnostics.Metrics;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>Listens to one counter of one meter (the registry's own, so parallel tests' meters stay out of it).</summary>
internal static class InstrumentListener
{
    /// <summary>A started listener that hands each measurement of <paramref name="instrument"/> to <paramref name="onMeasurement"/>.</summary>
    public static MeterListener Start(Meter meter, string instrument, MeasurementCallback<long> onMeasurement)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (published, l) =>
            {
                if (ReferenceEquals(published.Meter, meter) && published.Name == instrument)
                {
                    l.EnableMeasurementEvents(published);
                }
            },
        };
        listener.SetMeasurementEventCallback(onMeasurement);
        listener.Start();
        return listener;
    }
}
