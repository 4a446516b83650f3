using System.Diagnostics;
using System.Globalization;
using CloudMapDiscovery.Balancing;
using CloudMapDiscovery.Diagnostics;

namespace CloudMapDiscovery.Http;

/// <summary>
/// A span per attempt a request makes on a task address (activity source <c>CloudMapDiscovery</c>): the HTTP client
/// span that SocketsHttpHandler starts for the attempt is its child, so a trace shows each address tried, in order,
/// with what happened there.
/// </summary>
/// <remarks>Nothing is created when nobody listens.</remarks>
internal static class AttemptActivity
{
    public const string Name = "CloudMapDiscovery.Attempt";

    /// <summary>The tag naming the Cloud Map instance an attempt went to (API source only).</summary>
    public const string InstanceIdTag = "cloudmap.instance.id";

    /// <summary>Starts the span of attempt <paramref name="attempt"/> (1-based) on <paramref name="endpoint"/>, as the current activity.</summary>
    public static Activity? Start(string host, BalancedEndpoint endpoint, int port, int attempt)
    {
        var activity = CloudMapTelemetry.Source.StartActivity(Name, ActivityKind.Internal);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = $"attempt {attempt.ToString(CultureInfo.InvariantCulture)} {host}";
            activity.SetTag(CloudMapTelemetry.ServerAddress, host);
            activity.SetTag("network.peer.address", endpoint.Address.Address.ToString());
            activity.SetTag("network.peer.port", port);
            activity.SetTag("cloudmap.attempt", attempt);
            if (endpoint.Instance is { } instance)
            {
                activity.SetTag(InstanceIdTag, instance.Id);
            }

            if (endpoint.Locality is { } locality)
            {
                activity.SetTag(CloudMapMetrics.Locality, locality);
            }
        }

        return activity;
    }

    /// <summary>The attempt was answered (whatever the status).</summary>
    public static void Answered(Activity? activity, HttpResponseMessage response)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("http.response.status_code", (int)response.StatusCode);
        activity.Stop();
    }

    /// <summary>The attempt failed: its span says how, in the terms the retry decision used.</summary>
    public static void Failed(Activity? activity, FailureKind kind, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag(CloudMapTelemetry.ErrorType, kind switch
        {
            FailureKind.Connect => "connect",
            FailureKind.Tls => "tls",
            FailureKind.AfterSend => "after_send",
            FailureKind.Cancelled => "cancelled",
            _ => error.GetType().FullName,
        });
        activity.SetStatus(ActivityStatusCode.Error, FailureClassifier.Describe(error));
        activity.Stop();
    }
}
