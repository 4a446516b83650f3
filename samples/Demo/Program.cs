namespace CloudMapDiscovery.Samples.Demo;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        return await DemoApp.RunAsync(args, output: null, stop.Token);
    }
}
