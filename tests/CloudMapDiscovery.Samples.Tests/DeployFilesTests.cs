using CloudMapDiscovery.Samples.Hello;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace CloudMapDiscovery.Samples.Tests;

/// <summary>The deployment files parse, and their names, ports, paths and variables agree with the code.</summary>
public sealed class DeployFilesTests
{
    private static readonly string Deploy = Path.Combine(FindRepositoryRoot(), "samples", "deploy");

    [Fact]
    public void Every_yaml_file_parses()
    {
        var files = YamlFiles();
        files.Should().HaveCountGreaterThanOrEqualTo(3);
        foreach (var file in files)
        {
            var root = Load(file);
            root.Children.Should().NotBeEmpty(file);
        }
    }

    [Fact]
    public void Copilot_name_is_a_backend_service_on_port_3000()
    {
        var m = Load(Path.Combine(Deploy, "copilot", "name", "manifest.yml"));
        Scalar(m, "name").Should().Be(HelloApp.NameService);
        Scalar(m, "type").Should().Be("Backend Service");
        Scalar(m, "image", "port").Should().Be("3000");
        Scalar(m, "variables", "PORT").Should().Be("3000");
        File.Exists(Path.Combine(Deploy, Scalar(m, "image", "build", "dockerfile"))).Should().BeTrue();
        Path.GetFullPath(Path.Combine(Deploy, Scalar(m, "image", "build", "context"))).TrimEnd('/').Should().Be(FindRepositoryRoot().TrimEnd('/'));
    }

    [Fact]
    public void Copilot_hello_is_a_load_balanced_web_service_with_ping_health_check_and_name_server_from_copilot()
    {
        var m = Load(Path.Combine(Deploy, "copilot", "hello", "manifest.yml"));
        var name = Load(Path.Combine(Deploy, "copilot", "name", "manifest.yml"));
        Scalar(m, "name").Should().Be("hello");
        Scalar(m, "type").Should().Be("Load Balanced Web Service");
        Scalar(m, "http", "path").Should().Be("/");
        Scalar(m, "http", "healthcheck", "path").Should().Be("/ping");
        Scalar(m, "image", "port").Should().Be("3000");
        Scalar(m, "variables", "PORT").Should().Be("3000");
        File.Exists(Path.Combine(Deploy, Scalar(m, "image", "build", "dockerfile"))).Should().BeTrue();

        // NAME_SERVER is left to hello, which builds it from COPILOT_SERVICE_DISCOVERY_ENDPOINT at run time;
        // a manifest value could not interpolate that variable.
        var variables = (YamlMappingNode)m.Children[new YamlScalarNode("variables")];
        variables.Children.Keys.Select(k => ((YamlScalarNode)k).Value).Should().NotContain(HelloApp.NameServerKey);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [HelloApp.CopilotEndpointKey] = "test.demo.local" }).Build();
        var uri = HelloApp.ResolveNameServer(config);
        uri.Host.Should().Be($"{Scalar(name, "name")}.test.demo.local");
        uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture).Should().Be(Scalar(name, "image", "port"));
    }

    [Fact]
    public void CloudFormation_matches_the_pattern_and_the_code()
    {
        var t = Load(Path.Combine(Deploy, "cloudformation", "hello-name.yml"));
        var resources = (YamlMappingNode)t.Children[new YamlScalarNode("Resources")];
        YamlMappingNode Of(string type) => resources.Children.Values.Cast<YamlMappingNode>().Single(r => Scalar(r, "Type") == type);
        YamlMappingNode[] All(string type) => [.. resources.Children.Values.Cast<YamlMappingNode>().Where(r => Scalar(r, "Type") == type)];

        var ns = Of("AWS::ServiceDiscovery::PrivateDnsNamespace");
        Scalar(ns, "Properties", "Name").Should().Be("internal");

        var discovery = Of("AWS::ServiceDiscovery::Service");
        Scalar(discovery, "Properties", "Name").Should().Be(HelloApp.NameService);
        Scalar(discovery, "Properties", "DnsConfig", "RoutingPolicy").Should().Be("MULTIVALUE");
        var record = (YamlMappingNode)((YamlSequenceNode)Node(discovery, "Properties", "DnsConfig", "DnsRecords")).Children.Single();
        Scalar(record, "Type").Should().Be("A");
        var ttlParameter = Node(t, "Parameters", "NameRecordTtl");
        Scalar(ttlParameter, "Default").Should().Be("10");

        var tasks = All("AWS::ECS::TaskDefinition");
        tasks.Should().HaveCount(2);
        foreach (var task in tasks)
        {
            Scalar(task, "Properties", "NetworkMode").Should().Be("awsvpc", "A records need awsvpc");
            var container = (YamlMappingNode)((YamlSequenceNode)Node(task, "Properties", "ContainerDefinitions")).Children.Single();
            var port = (YamlMappingNode)((YamlSequenceNode)Node(container, "PortMappings")).Children.Single();
            Scalar(port, "ContainerPort").Should().Be("3000");
            Env(container).Should().Contain("PORT", "3000");
        }

        var hello = tasks.Single(x => Scalar(x, "Properties", "Family") == "hello");
        var helloContainer = (YamlMappingNode)((YamlSequenceNode)Node(hello, "Properties", "ContainerDefinitions")).Children.Single();
        var nameServer = new Uri(Env(helloContainer)[HelloApp.NameServerKey]);
        nameServer.Should().Be(new Uri(HelloApp.DefaultNameServer));
        nameServer.Host.Should().Be($"{Scalar(discovery, "Properties", "Name")}.{Scalar(ns, "Properties", "Name")}");

        var services = All("AWS::ECS::Service");
        var nameService = services.Single(s => Scalar(s, "Properties", "ServiceName") == HelloApp.NameService);
        var registry = (YamlMappingNode)((YamlSequenceNode)Node(nameService, "Properties", "ServiceRegistries")).Children.Single();
        var arn = Node(registry, "RegistryArn");
        arn.Tag.Value.Should().Be("!GetAtt");
        resources.Children[new YamlScalarNode(((YamlScalarNode)arn).Value!.Split('.')[0])].Should().BeSameAs(discovery);

        var targetGroup = Of("AWS::ElasticLoadBalancingV2::TargetGroup");
        Scalar(targetGroup, "Properties", "HealthCheckPath").Should().Be("/ping");
        Scalar(targetGroup, "Properties", "Port").Should().Be("3000");
        var helloService = services.Single(s => Scalar(s, "Properties", "ServiceName") == "hello");
        var lb = (YamlMappingNode)((YamlSequenceNode)Node(helloService, "Properties", "LoadBalancers")).Children.Single();
        Scalar(lb, "ContainerPort").Should().Be("3000");
    }

    [Fact]
    public void Dockerfiles_are_multi_stage_and_non_root_on_port_3000()
    {
        foreach (var (file, dll) in new[] { ("name.Dockerfile", "Name.dll"), ("hello.Dockerfile", "Hello.dll") })
        {
            var text = File.ReadAllText(Path.Combine(Deploy, "docker", file));
            text.Split('\n').Count(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Should().Be(2, file);
            text.Should().Contain("aspnet:10.0").And.Contain("chiseled").And.Contain("USER $APP_UID").And.Contain("PORT=3000").And.Contain("EXPOSE 3000").And.Contain(dll);
        }
    }

    private static string[] YamlFiles() =>
        [.. Directory.EnumerateFiles(Deploy, "*.*", SearchOption.AllDirectories).Where(f => f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".yaml", StringComparison.Ordinal))];

    private static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static YamlNode Node(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }

        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)Node(node, path)).Value!;

    private static Dictionary<string, string> Env(YamlMappingNode container) =>
        ((YamlSequenceNode)Node(container, "Environment")).Children.Cast<YamlMappingNode>().ToDictionary(e => Scalar(e, "Name"), e => Scalar(e, "Value"));

    // The build output may live outside the work tree (ArtifactsPath), so start from this source file.
    private static string FindRepositoryRoot([System.Runtime.CompilerServices.CallerFilePath] string source = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(source), AppContext.BaseDirectory })
        {
            var dir = start is null ? null : new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "CloudMapDiscovery.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is not null)
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("CloudMapDiscovery.sln not found above " + source);
    }
}
