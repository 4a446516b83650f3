using CloudMapDiscovery.Tests.Infrastructure;

namespace CloudMapDiscovery.Tests.Readme;

/// <summary>The README's code is code that compiles and passes: its example is this project's test, word for word.</summary>
public sealed class ReadmeTests
{
    [Fact]
    public void The_README_shows_the_testing_example_exactly_as_it_is_compiled_and_run_here()
    {
        var root = Repository.Root();
        var example = File.ReadAllText(Path.Combine(root, "tests", "CloudMapDiscovery.Tests", "Readme", "TestingYourServiceExample.cs"));
        var code = Between(example, "// README:begin\n", "// README:end").Trim();
        var readme = File.ReadAllText(Path.Combine(root, "README.md")).ReplaceLineEndings("\n");

        readme.Should().Contain("```csharp\n" + code.ReplaceLineEndings("\n") + "\n```", "the README's example must be the tested one");
    }

    private static string Between(string text, string start, string end)
    {
        text = text.ReplaceLineEndings("\n");
        var from = text.IndexOf(start, StringComparison.Ordinal) + start.Length;
        return text[from..text.IndexOf(end, from, StringComparison.Ordinal)];
    }
}
