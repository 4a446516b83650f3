namespace CloudMapDiscovery.Samples.Hello;

internal static class Program
{
    public static Task Main(string[] args) => HelloApp.Build(args).RunAsync();
}
