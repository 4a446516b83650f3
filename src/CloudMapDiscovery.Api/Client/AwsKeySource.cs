using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using CloudMapDiscovery.Api.Signing;

namespace CloudMapDiscovery.Api.Client;

/// <summary>Where the signing keys come from: AWSSDK.Core's credentials, asked at each call (they cache and refresh themselves).</summary>
internal sealed class AwsKeySource
{
    private readonly Lazy<AWSCredentials> _credentials;

    /// <param name="credentials">Given credentials, or <see langword="null"/> for AWSSDK.Core's default chain.</param>
    public AwsKeySource(AWSCredentials? credentials)
    {
        _credentials = new Lazy<AWSCredentials>(() => credentials ?? DefaultAWSCredentialsIdentityResolver.GetCredentials(), LazyThreadSafetyMode.PublicationOnly); // a failed search is tried again at the next call
    }

    /// <summary>The keys now; a <see cref="CloudMapApiException"/> with code <c>NoCredentials</c> when none can be found.</summary>
    public async ValueTask<AwsKeys> GetAsync(string operation)
    {
        try
        {
            var keys = await _credentials.Value.GetCredentialsAsync().ConfigureAwait(false);
            return new AwsKeys(keys.AccessKey, keys.SecretKey, keys.UseToken ? keys.Token : null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // AWSSDK.Core's message lists the sources it tried; it names no secret.
            throw new CloudMapApiException(operation, "NoCredentials", null,
                $"Cloud Map {operation} was not called: no AWS credentials were found (tried AWSSDK.Core's default chain: environment variables, profiles, web identity, ECS container credentials, EC2 instance metadata): {ex.Message.Trim().TrimEnd('.')}.", ex);
        }
    }
}
