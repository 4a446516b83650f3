using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace CloudMapDiscovery.Tests.TestData;

/// <summary>
/// Loads the captured DNS messages in this folder (<c>*.hex</c>): whitespace-separated hex bytes, with
/// <c>#</c> starting a comment that runs to the end of the line. See README.md here.
/// </summary>
public static class WireData
{
    /// <summary>Environment variable naming the TestData folder explicitly (rarely needed).</summary>
    public const string DirectoryVariable = "CLOUDMAP_TESTDATA_DIR";

    private const string RepoRelative = "tests/CloudMapDiscovery.Tests/TestData";

    /// <summary>Loads one captured message, e.g. <c>WireData.Load("three-a.reply.hex")</c>.</summary>
    /// <param name="fileName">The file name in TestData.</param>
    /// <returns>The message bytes.</returns>
    /// <exception cref="FileNotFoundException">The file is in none of the searched folders.</exception>
    public static byte[] Load(string fileName) => FromHex(File.ReadAllText(Find(fileName)));

    /// <summary>Finds a TestData file: <c>CLOUDMAP_TESTDATA_DIR</c>, then <c>TestData/</c> next to the test assembly
    /// (when the project copies it), then the source tree found upwards from the test assembly, the current
    /// directory or <c>$PWD</c>, then the folder this source file was compiled from.</summary>
    /// <param name="fileName">The file name.</param>
    /// <param name="sourceFile">Filled in by the compiler.</param>
    /// <returns>The full path.</returns>
    public static string Find(string fileName, [CallerFilePath] string sourceFile = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } explicitDir)
        {
            candidates.Add(explicitDir);
        }

        candidates.Add(Path.Combine(AppContext.BaseDirectory, "TestData"));
        // The test host runs in the output folder; PWD still names the folder dotnet test was started from
        // (the repository root in CI), which matters when ArtifactsPath puts the output outside the checkout.
        var starts = new[] { AppContext.BaseDirectory, Environment.CurrentDirectory, Environment.GetEnvironmentVariable("PWD") };
        foreach (var start in starts.Where(s => !string.IsNullOrEmpty(s) && Directory.Exists(s)))
        {
            for (var dir = new DirectoryInfo(start!); dir is not null; dir = dir.Parent)
            {
                candidates.Add(Path.Combine(dir.FullName, RepoRelative));
            }
        }

        if (Path.GetDirectoryName(sourceFile) is { Length: > 0 } sourceDir)
        {
            candidates.Add(sourceDir);
        }

        foreach (var dir in candidates)
        {
            var path = Path.Combine(dir, fileName);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException(
            $"Test data file {fileName} not found. Looked in: {string.Join(", ", candidates.Distinct())}. Set {DirectoryVariable} to {RepoRelative} of the checkout.",
            fileName);
    }

    /// <summary>Parses hex text: pairs of hex digits separated by any whitespace; <c>#</c> comments are ignored.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The bytes.</returns>
    /// <exception cref="FormatException">A token is not a two-digit hex byte.</exception>
    public static byte[] FromHex(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var bytes = new List<byte>();
        foreach (var rawLine in text.Split('\n'))
        {
            var hash = rawLine.IndexOf('#', StringComparison.Ordinal);
            var line = hash >= 0 ? rawLine[..hash] : rawLine;
            foreach (var token in line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                if (token.Length % 2 != 0)
                {
                    throw new FormatException($"'{token}' is not a sequence of whole hex bytes.");
                }

                for (var i = 0; i < token.Length; i += 2)
                {
                    bytes.Add(byte.Parse(token.AsSpan(i, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture));
                }
            }
        }

        return [.. bytes];
    }

    /// <summary>Formats bytes as the hex files here are written: an optional comment header, then 16 bytes a line.</summary>
    /// <param name="bytes">The message.</param>
    /// <param name="comments">Comment lines written first, each prefixed with <c># </c>.</param>
    /// <returns>The text, ending with a newline.</returns>
    public static string ToHex(ReadOnlySpan<byte> bytes, params string[] comments)
    {
        ArgumentNullException.ThrowIfNull(comments);
        var sb = new StringBuilder();
        foreach (var c in comments)
        {
            sb.Append("# ").Append(c).Append('\n');
        }

        for (var i = 0; i < bytes.Length; i++)
        {
            sb.Append(bytes[i].ToString("x2", CultureInfo.InvariantCulture));
            sb.Append(i % 16 == 15 || i == bytes.Length - 1 ? '\n' : ' ');
        }

        return sb.ToString();
    }
}
