namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>The checkout the tests run from, for tests that read its sources and documents.</summary>
internal static class Repository
{
    /// <summary>The folder holding CloudMapDiscovery.sln, found upwards from the test's output folder.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CloudMapDiscovery.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No CloudMapDiscovery.sln above {AppContext.BaseDirectory}.");
    }
}
