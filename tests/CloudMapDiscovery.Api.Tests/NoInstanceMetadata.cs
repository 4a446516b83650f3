using System.Runtime.CompilerServices;

namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>Keeps zone detection off the machine's real metadata endpoints: tests give it loopback fakes instead.</summary>
/// <remarks>
/// Instances from the Cloud Map fake carry <c>AVAILABILITY_ZONE</c>, which makes the library ask where the process
/// runs. Here nothing may answer but a test's own <c>TaskMetadataTestServer</c>: no ECS variable inherited from the
/// machine, and IMDS disabled the way AWS SDKs read it (compiled into every test project whose services carry zones).
/// </remarks>
internal static class NoInstanceMetadata
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        Environment.SetEnvironmentVariable("ECS_CONTAINER_METADATA_URI_V4", null);
        Environment.SetEnvironmentVariable("AWS_EC2_METADATA_DISABLED", "true");
    }
}
