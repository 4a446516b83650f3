using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.Api.DependencyInjection;

/// <summary>Checks the API source's options; each failure names the option under <c>CloudMapDiscovery:Api</c>.</summary>
internal sealed class CloudMapApiOptionsValidator : IValidateOptions<CloudMapApiOptions>
{
    private static readonly string[] HealthFilters = ["HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL"];

    public ValidateOptionsResult Validate(string? name, CloudMapApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        const string P = CloudMapApiOptions.SectionName + ":";
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Region))
        {
            failures.Add($"{P}{nameof(options.Region)} is not set, and neither is the AWS_REGION or AWS_DEFAULT_REGION environment variable: the Cloud Map API needs a Region (such as eu-west-1), also to sign for a ServiceUrl.");
        }
        else if (!options.Region.Trim().All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
        {
            failures.Add($"{P}{nameof(options.Region)} '{options.Region}' is not a Region name (such as eu-west-1).");
        }

        if (!string.IsNullOrWhiteSpace(options.ServiceUrl)
            && (!Uri.TryCreate(options.ServiceUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https")))
        {
            failures.Add($"{P}{nameof(options.ServiceUrl)} '{options.ServiceUrl}' is not an absolute http or https URL.");
        }

        if (!HealthFilters.Contains(options.HealthStatus?.Trim().ToUpperInvariant()))
        {
            failures.Add($"{P}{nameof(options.HealthStatus)} '{options.HealthStatus}' is not one of {string.Join(", ", HealthFilters)}.");
        }

        if (options.HealthRefreshInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{P}{nameof(options.HealthRefreshInterval)} {options.HealthRefreshInterval} is below 1 s.");
        }

        if (!(options.MaxCallsPerSecond > 0) || double.IsInfinity(options.MaxCallsPerSecond))
        {
            failures.Add($"{P}{nameof(options.MaxCallsPerSecond)} {options.MaxCallsPerSecond} must be a positive number.");
        }

        if (options.Timeout <= TimeSpan.Zero || options.Timeout > TimeSpan.FromMinutes(1))
        {
            failures.Add($"{P}{nameof(options.Timeout)} {options.Timeout} must be above 0 and at most 1 minute.");
        }

        if (options.OwnerAccount is { Length: > 0 } owner && (owner.Trim().Length != 12 || !owner.Trim().All(char.IsAsciiDigit)))
        {
            failures.Add($"{P}{nameof(options.OwnerAccount)} '{owner}' is not a 12-digit account id.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures.Select(f => name is { Length: > 0 } ? $"Client '{name}': {f}" : f));
    }
}
