using System.Text.RegularExpressions;

namespace CloudMapDiscovery.Testing.Internal;

/// <summary>Whether a request carries a well-formed SigV4 Authorization header for Cloud Map, and if not, the error AWS gives.</summary>
/// <remarks>
/// The form is checked (algorithm, credential scope with service <c>servicediscovery</c>, the date of
/// <c>X-Amz-Date</c>, signed headers including <c>host</c>, <c>x-amz-date</c> and <c>x-amz-target</c>, a 64-digit
/// signature), and the access key id against <see cref="CloudMapApiTestServerOptions.AccessKeyIds"/> when set; the
/// signature itself is not recomputed (the server knows no secret).
/// </remarks>
internal static partial class SignatureCheck
{
    public sealed record Failure(int Status, string Type, string Message);

    public static Failure? Refusal(HttpRequestData request, CloudMapApiTestServerOptions options)
    {
        if (!request.Headers.TryGetValue("Authorization", out var authorization))
        {
            return new(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
        }

        var match = AuthorizationForm().Match(authorization);
        if (!match.Success)
        {
            return new(403, "IncompleteSignatureException", "The Authorization header is not a complete AWS4-HMAC-SHA256 signature.");
        }

        var signed = match.Groups["signed"].Value.Split(';');
        string[] required = ["host", "x-amz-date", "x-amz-target"];
        if (required.Except(signed).ToList() is { Count: > 0 } missing)
        {
            return new(403, "IncompleteSignatureException", $"Signed headers must include {string.Join(", ", missing)}.");
        }

        if (match.Groups["service"].Value != "servicediscovery")
        {
            return new(403, "InvalidSignatureException", $"Credential should be scoped to correct service: 'servicediscovery', not '{match.Groups["service"].Value}'.");
        }

        if (!request.Headers.TryGetValue("X-Amz-Date", out var date) || !date.StartsWith(match.Groups["date"].Value, StringComparison.Ordinal) || date.Length != 16)
        {
            return new(403, "IncompleteSignatureException", "X-Amz-Date is missing or does not match the credential scope's date.");
        }

        if (options.AccessKeyIds.Count > 0 && !options.AccessKeyIds.Contains(match.Groups["key"].Value))
        {
            return new(403, "UnrecognizedClientException", "The security token included in the request is invalid.");
        }

        return null;
    }

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=(?<key>[^/\s]+)/(?<date>\d{8})/(?<region>[a-z0-9-]+)/(?<service>[a-z0-9-]+)/aws4_request, ?SignedHeaders=(?<signed>[a-z0-9;-]+), ?Signature=[0-9a-f]{64}$")]
    private static partial Regex AuthorizationForm();
}

/// <summary>The faults injected, taken one call at a time.</summary>
internal sealed class ApiFaults
{
    private readonly List<(CloudMapApiFault Fault, int? Left)> _faults = [];

    public void Add(CloudMapApiFault fault)
    {
        lock (_faults)
        {
            _faults.Add((fault, fault.Count));
        }
    }

    public void Clear()
    {
        lock (_faults)
        {
            _faults.Clear();
        }
    }

    /// <summary>The first fault that applies to a call of <paramref name="operation"/>, counted down.</summary>
    public CloudMapApiFault? Take(string operation)
    {
        lock (_faults)
        {
            var i = _faults.FindIndex(f => f.Fault.Operation is null || f.Fault.Operation == operation);
            if (i < 0)
            {
                return null;
            }

            var (fault, left) = _faults[i];
            if (left is { } n)
            {
                if (n <= 1)
                {
                    _faults.RemoveAt(i);
                }
                else
                {
                    _faults[i] = (fault, n - 1);
                }
            }

            return fault;
        }
    }
}

/// <summary>Calls per operation: those answered (faults included) and those refused for their signature.</summary>
internal sealed class ApiCounters
{
    private readonly Dictionary<string, int> _calls = new(StringComparer.Ordinal);
    private int _refused;

    public int Refused() => Volatile.Read(ref _refused);

    public void Refused(string operation) => Interlocked.Increment(ref _refused);

    public void Called(string operation)
    {
        lock (_calls)
        {
            _calls[operation] = _calls.GetValueOrDefault(operation) + 1;
        }
    }

    public int Calls(string operation)
    {
        lock (_calls)
        {
            return _calls.GetValueOrDefault(operation);
        }
    }

    public void Reset()
    {
        lock (_calls)
        {
            _calls.Clear();
        }

        Volatile.Write(ref _refused, 0);
    }
}
