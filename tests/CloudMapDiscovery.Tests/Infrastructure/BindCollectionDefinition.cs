namespace CloudMapDiscovery.Tests.Infrastructure;

/// <summary>
/// The xunit collection that shares one <see cref="BindServer"/> (one named) among its test classes.
/// Use it with <c>[Collection(BindCollectionDefinition.Name)]</c> and a constructor parameter of type <see cref="BindServer"/>;
/// call <see cref="BindServer.SkipIfUnavailable"/> at the top of every test.
/// Tests in one collection run one at a time, so a test may change records with nsupdate, but should use
/// names of its own (or undo its change) so that other tests still see the seed zone of <see cref="BindZone"/>.
/// </summary>
[CollectionDefinition(Name)]
public sealed class BindCollectionDefinition : ICollectionFixture<BindServer>
{
    /// <summary>The collection name.</summary>
    public const string Name = "BIND";
}
