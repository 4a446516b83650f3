namespace CloudMapDiscovery.Samples.Demo.Acts;

/// <summary>One act of the story: it changes the world, lets the client's traffic run, and judges what hello did.</summary>
internal interface IDemoAct
{
    /// <summary>Plays the act: <see cref="DemoRun.Begin"/>, the changes, then <see cref="DemoRun.End"/> with its check.</summary>
    Task PlayAsync(DemoRun run, CancellationToken ct);
}
