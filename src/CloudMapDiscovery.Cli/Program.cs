using System.Runtime.InteropServices;

namespace CloudMapDiscovery.Cli;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        using var stopping = new CancellationTokenSource();

        // Ctrl+C and SIGTERM end `serve` (and cancel a pending `resolve`) through the token, so the server
        // closes its sockets instead of the process dying mid-reply.
        void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            stopping.Cancel();
        }

        Console.CancelKeyPress += OnCancelKeyPress;
        try
        {
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                stopping.Cancel();
            });

            return await CliApp.RunAsync(args, Console.Out, Console.Error, stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancelKeyPress;
        }
    }
}
