using System.Text.RegularExpressions;
using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Readme;

/// <summary>An options table of the README (<c>| `Option` | default | why |</c>), checked against the options' defaults.</summary>
internal static partial class ReadmeOptionsTable
{
    /// <summary>Checks that the table between <paramref name="start"/> and <paramref name="end"/> lists exactly the options of <paramref name="defaults"/>, each with its stated default, and that each holds on <paramref name="options"/>.</summary>
    public static void ShouldStateTheDefaults<TOptions>(string start, string end, IReadOnlyDictionary<string, (string Stated, Func<TOptions, bool> Holds)> defaults, TOptions options)
    {
        var readme = File.ReadAllText(Path.Combine(Repository.Root(), "README.md")).ReplaceLineEndings("\n");
        var from = readme.IndexOf(start, StringComparison.Ordinal);
        var section = readme[from..readme.IndexOf(end, from, StringComparison.Ordinal)];
        var rows = TableRow().Matches(section).ToDictionary(m => m.Groups["option"].Value.Trim(), m => m.Groups["default"].Value.Trim(), StringComparer.Ordinal);

        rows.Keys.Should().BeEquivalentTo(defaults.Keys, "every option the README lists has its default checked here");
        foreach (var (option, (stated, holds)) in defaults)
        {
            rows[option].Should().Be(stated, "the README states {0}'s default", option);
            holds(options).Should().BeTrue("{0} defaults to {1}, as the README says", option, stated);
        }
    }

    [GeneratedRegex(@"^\| (?<option>`[^|]+) \| (?<default>[^|]+) \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
