namespace CloudMapDiscovery.Api.Signing;

/// <summary>The keys one request is signed with: access key id, secret key and, for temporary credentials, the session token.</summary>
/// <remarks>
/// Its text form names only the access key id: the secret and the token must never reach a log, a message, a span or a
/// metric, and a record's generated <c>ToString</c> would print them.
/// </remarks>
internal sealed record AwsKeys(string AccessKeyId, string SecretKey, string? SessionToken)
{
    public override string ToString() => $"access key {AccessKeyId}{(SessionToken is null ? string.Empty : " (temporary)")}";
}
