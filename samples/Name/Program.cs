namespace CloudMapDiscovery.Samples.Name;

internal static class Program
{
    public static Task Main(string[] args) => NameApp.Build(args).RunAsync();
}
