using System.Net;
using System.Text.Json;

namespace CloudMapDiscovery.Balancing.Zones;

/// <summary>Asks where the process runs: the ECS task metadata endpoint, else EC2's instance metadata service (IMDSv2).</summary>
/// <remarks>
/// Each ask is bounded by <see cref="ZoneDetectorSettings.Timeout"/> on the injected clock (and by it as the connect timeout); a source that fails, times out or answers without
/// a zone counts as silent, and the next is asked. The reasons are collected for the one log line that says zone routing
/// is off. Never throws but for the caller's cancellation.
/// </remarks>
internal sealed class ZoneDetector(ZoneDetectorSettings settings, TimeProvider clock)
{
    public const string EcsSource = "ecs-task-metadata";
    public const string ImdsSource = "ec2-imds";

    /// <summary>The caller's location, or <see langword="null"/>, with what each source asked did (for the log).</summary>
    public async Task<(CallerLocation? Location, string Tried)> DetectAsync(CancellationToken cancellationToken)
    {
        var tried = new List<string>();
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = settings.Timeout, AllowAutoRedirect = false })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };

        if (string.IsNullOrWhiteSpace(settings.EcsMetadataUri))
        {
            tried.Add($"{ZoneDetectorSettings.EcsMetadataVariable} is not set");
        }
        else if (await AskAsync(tried, EcsSource, ct => FromEcsAsync(http, settings.EcsMetadataUri, ct), cancellationToken).ConfigureAwait(false) is { } ecs)
        {
            return (ecs, string.Join("; ", tried));
        }

        if (settings.ImdsBase is { } imds
            && await AskAsync(tried, ImdsSource, ct => FromImdsAsync(http, imds, ct), cancellationToken).ConfigureAwait(false) is { } ec2)
        {
            return (ec2, string.Join("; ", tried));
        }

        return (null, string.Join("; ", tried));
    }

    private async Task<CallerLocation?> AskAsync(List<string> tried, string source, Func<CancellationToken, Task<CallerLocation?>> ask, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(settings.Timeout, clock);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var location = await ask(bound.Token).ConfigureAwait(false);
            if (location is null)
            {
                tried.Add($"{source} gave no zone");
            }

            return location;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            tried.Add($"{source} did not answer within {settings.Timeout.TotalMilliseconds:0} ms");
        }
        catch (Exception e) when (e is HttpRequestException or IOException or JsonException or InvalidOperationException or UriFormatException)
        {
            tried.Add($"{source} failed ({e.Message})");
        }

        return null;
    }

    private static async Task<CallerLocation?> FromEcsAsync(HttpClient http, string metadataUri, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(new Uri(metadataUri.TrimEnd('/') + "/task"), cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (body.ConfigureAwait(false))
        {
            using var task = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken).ConfigureAwait(false);
            return task.RootElement.ValueKind == JsonValueKind.Object
                && task.RootElement.TryGetProperty("AvailabilityZone", out var zone)
                && zone.ValueKind == JsonValueKind.String && zone.GetString() is { Length: > 0 } name
                ? new CallerLocation(name, null, EcsSource)
                : null;
        }
    }

    // IMDSv2: a session token first (PUT), then the zone and its ID with it. The ID is optional (older instances).
    private static async Task<CallerLocation?> FromImdsAsync(HttpClient http, Uri imds, CancellationToken cancellationToken)
    {
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Put, new Uri(imds, "latest/api/token"));
        tokenRequest.Headers.Add("X-aws-ec2-metadata-token-ttl-seconds", "60");
        using var tokenResponse = await http.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
        tokenResponse.EnsureSuccessStatusCode();
        var token = await tokenResponse.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);

        var zone = await ReadAsync(http, imds, "latest/meta-data/placement/availability-zone", token, cancellationToken).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(zone))
        {
            return null;
        }

        var zoneId = await ReadAsync(http, imds, "latest/meta-data/placement/availability-zone-id", token, cancellationToken).ConfigureAwait(false);
        return new CallerLocation(zone.Trim(), string.IsNullOrWhiteSpace(zoneId) ? null : zoneId.Trim(), ImdsSource);
    }

    private static async Task<string?> ReadAsync(HttpClient http, Uri imds, string path, string token, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(imds, path));
        request.Headers.Add("X-aws-ec2-metadata-token", token);
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false) : null;
    }
}
