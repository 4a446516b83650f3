namespace CloudMapDiscovery.Http;

/// <summary>One client's HTTP behaviour: how a request is retried.</summary>
internal sealed record HttpSettings(int MaxAttempts);
