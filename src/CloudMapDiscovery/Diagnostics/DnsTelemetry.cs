using System.Diagnostics;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Diagnostics;

/// <summary>
/// A span per public lookup (activity source <c>CloudMapDiscovery</c>): the question, the server that answered and how,
/// the response code, or the error.
/// </summary>
/// <remarks>Also the low-cardinality names the meter records lookups under.</remarks>
internal static class DnsTelemetry
{
    public static Activity? Start(string name, DnsRecordType type)
    {
        var activity = CloudMapTelemetry.Source.StartActivity("DNS " + TypeName(type), ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("dns.question.name", name);
            activity.SetTag("dns.question.type", TypeName(type));
        }

        return activity;
    }

    public static void Answered(Activity? activity, DnsQueryResult result)
    {
        if (activity is null)
        {
            return;
        }

        SetServer(activity, result.Server, result.Transport);
        activity.SetTag("dns.response_code", ResponseCodeName(result.ResponseCode));
        activity.Stop();
    }

    public static void Failed(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        // A failed lookup names the server it gave up on, so a span of a dead name server is found by its address.
        if (error is DnsResolutionException { Attempts: [.., var last] })
        {
            SetServer(activity, last.Server, last.Transport);
        }

        activity.SetTag(CloudMapTelemetry.ErrorType, ErrorType(error));
        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.Stop();
    }

    private static void SetServer(Activity activity, System.Net.IPEndPoint server, DnsTransport transport)
    {
        activity.SetTag("server.address", server.Address.ToString());
        activity.SetTag("server.port", server.Port);
        activity.SetTag("network.transport", transport == DnsTransport.Tcp ? "tcp" : "udp");
    }

    public static string TypeName(DnsRecordType type) => type switch
    {
        DnsRecordType.A => "a",
        DnsRecordType.AAAA => "aaaa",
        DnsRecordType.SRV => "srv",
        _ => type.ToString().ToLowerInvariant(),
    };

    public static string ResponseCodeName(DnsResponseCode code) => code switch
    {
        DnsResponseCode.NoError => "noerror",
        DnsResponseCode.NXDomain => "nxdomain",
        _ => code.ToString().ToLowerInvariant(),
    };

    /// <summary>What went wrong, in a few words fit for a tag: the outcome of the last server tried.</summary>
    public static string ErrorType(Exception error) => error switch
    {
        OperationCanceledException => "cancelled",
        DnsResolutionException { Attempts: [.., var last] } => last.Outcome switch
        {
            DnsAttemptOutcome.Timeout => "timeout",
            DnsAttemptOutcome.ServerFailure => "servfail",
            DnsAttemptOutcome.Refused => "refused",
            DnsAttemptOutcome.NotImplemented => "notimp",
            DnsAttemptOutcome.FormatError => "formerr",
            DnsAttemptOutcome.MalformedReply => "malformed_reply",
            DnsAttemptOutcome.NetworkError => "network_error",
            _ => "other_response_code",
        },
        _ => "error",
    };
}
