namespace CloudMapDiscovery.Cli;

/// <summary>The process exit codes, stable for scripts.</summary>
internal static class ExitCodes
{
    /// <summary>Records found, or the server ran and stopped normally.</summary>
    public const int Success = 0;

    /// <summary>A negative answer: NXDOMAIN, or NODATA (the name exists without records of the type).</summary>
    public const int NoRecords = 1;

    /// <summary>No answer (every server failed), bad arguments, or the server could not start.</summary>
    public const int Error = 2;
}
