using System.Collections.ObjectModel;
using System.Diagnostics;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// The exporter adds the spans of every test running beside this one, on their threads: a plain list cannot be
/// read while it grows.
/// </summary>
internal sealed class SpanLog : Collection<Activity>
{
    public Activity[] Snapshot()
    {
        lock (Items)
        {
            return [.. Items];
        }
    }

    protected override void InsertItem(int index, Activity item)
    {
        lock (Items)
        {
            base.InsertItem(index, item);
        }
    }
}
