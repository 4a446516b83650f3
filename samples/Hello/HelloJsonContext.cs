using System.Text.Json;
using System.Text.Json.Serialization;
using CloudMapDiscovery.Diagnostics;

namespace CloudMapDiscovery.Samples.Hello;

/// <summary>
/// The JSON of <c>/debug/endpoints</c>, generated at compile time: a native AOT hello has no reflection-based
/// serializer. Web defaults (camelCase), enums as names, indented for people reading it with curl.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(IReadOnlyList<ServiceSnapshot>))]
internal sealed partial class HelloJsonContext : JsonSerializerContext;
