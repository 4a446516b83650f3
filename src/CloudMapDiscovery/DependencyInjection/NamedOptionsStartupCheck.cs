using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Options;

namespace CloudMapDiscovery.DependencyInjection;

/// <summary>Validates, when the host starts, the unnamed options and every client's options that are configured by name.</summary>
/// <remarks>
/// <c>ValidateOnStart()</c> needs each name when it is registered, but <c>AddCloudMapDiscoveryToAllHttpClients()</c>
/// applies to clients it never sees by name. Options differ by name only where something configures that name: a
/// <c>CloudMapDiscovery:Clients:&lt;name&gt;</c> section, <c>Configure</c> or <c>PostConfigure</c> with a name, or a
/// named client's own registrations; those are the names checked here. This type is only a key for
/// <c>ValidateOnStart</c>: <see cref="Validator"/> does the work.
/// </remarks>
internal sealed class NamedOptionsStartupCheck
{
    /// <summary>Gets every validation failure of the options of each configured name.</summary>
    internal sealed class Validator : IValidateOptions<NamedOptionsStartupCheck>
    {
        private readonly IOptionsMonitor<CloudMapDiscoveryOptions> _options;
        private readonly IEnumerable<IConfigureOptions<CloudMapDiscoveryOptions>> _configures;
        private readonly IEnumerable<IPostConfigureOptions<CloudMapDiscoveryOptions>> _postConfigures;
        private readonly IEnumerable<IConfigureOptions<HttpClientFactoryOptions>> _clients;
        private readonly IConfiguration? _configuration;

        public Validator(
            IOptionsMonitor<CloudMapDiscoveryOptions> options,
            IEnumerable<IConfigureOptions<CloudMapDiscoveryOptions>> configures,
            IEnumerable<IPostConfigureOptions<CloudMapDiscoveryOptions>> postConfigures,
            IEnumerable<IConfigureOptions<HttpClientFactoryOptions>> clients,
            IServiceProvider services)
        {
            _options = options;
            _configures = configures;
            _postConfigures = postConfigures;
            _clients = clients;
            _configuration = (IConfiguration?)services.GetService(typeof(IConfiguration));
        }

        public ValidateOptionsResult Validate(string? name, NamedOptionsStartupCheck options)
        {
            var failures = new List<string>();
            foreach (var client in Names())
            {
                try
                {
                    _ = _options.Get(client);
                }
                catch (OptionsValidationException ex)
                {
                    failures.AddRange(ex.Failures);
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }

        // ConfigureAll and PostConfigureAll have no name: they apply to every name alike.
        private SortedSet<string> Names()
        {
            var names = new SortedSet<string>(StringComparer.Ordinal) { Options.DefaultName };
            if (_configuration is not null)
            {
                names.UnionWith(_configuration.GetSection(CloudMapDiscoveryOptions.SectionName).GetSection("Clients").GetChildren().Select(c => c.Key));
            }

            names.UnionWith(_configures.OfType<ConfigureNamedOptions<CloudMapDiscoveryOptions>>().Select(c => c.Name).OfType<string>());
            names.UnionWith(_postConfigures.OfType<PostConfigureOptions<CloudMapDiscoveryOptions>>().Select(c => c.Name).OfType<string>());
            names.UnionWith(_clients.OfType<ConfigureNamedOptions<HttpClientFactoryOptions>>().Select(c => c.Name).OfType<string>());
            return names;
        }
    }
}
