using System.Globalization;
using System.Text;
using System.Text.Json;
using CloudMapDiscovery.Dns;

namespace CloudMapDiscovery.Cli;

/// <summary>Renders a <see cref="DnsQueryResult"/> for people (a table) or for scripts (one JSON object).</summary>
internal static class ResultFormatter
{
    private static readonly JsonWriterOptions JsonOptions = new() { Indented = true };

    /// <summary>
    /// Writes <c>question</c>, <c>server</c>, <c>transport</c>, <c>responseCode</c>, <c>answers</c>,
    /// <c>canonicalNames</c>, <c>negativeTtl</c> and <c>elapsedMs</c>.
    /// </summary>
    /// <remarks>TTLs are whole seconds.</remarks>
    public static string ToJson(DnsQueryResult result)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("question");
            json.WriteString("name", result.Name);
            json.WriteString("type", result.Type.ToString());
            json.WriteEndObject();
            json.WriteString("server", result.Server.ToString());
            json.WriteString("transport", Transport(result.Transport));
            json.WriteString("responseCode", result.ResponseCode.ToString());
            json.WriteStartArray("answers");
            foreach (var address in result.Addresses)
            {
                json.WriteStartObject();
                json.WriteString("name", address.Name);
                json.WriteString("type", address.Type.ToString());
                json.WriteNumber("ttl", Seconds(address.Ttl));
                json.WriteString("address", address.Address.ToString());
                json.WriteEndObject();
            }

            foreach (var service in result.Services)
            {
                json.WriteStartObject();
                json.WriteString("name", service.Name);
                json.WriteString("type", nameof(DnsRecordType.SRV));
                json.WriteNumber("ttl", Seconds(service.Ttl));
                json.WriteNumber("priority", service.Priority);
                json.WriteNumber("weight", service.Weight);
                json.WriteNumber("port", service.Port);
                json.WriteString("target", service.Target);
                json.WriteStartArray("addresses");
                foreach (var address in service.Addresses)
                {
                    json.WriteStringValue(address.Address.ToString());
                }

                json.WriteEndArray();
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("canonicalNames");
            foreach (var link in result.CanonicalNames)
            {
                json.WriteStartObject();
                json.WriteString("name", link.Name);
                json.WriteString("target", link.Target);
                json.WriteNumber("ttl", Seconds(link.Ttl));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            if (result.NegativeTtl is { } negativeTtl)
            {
                json.WriteNumber("negativeTtl", Seconds(negativeTtl));
            }
            else
            {
                json.WriteNull("negativeTtl");
            }

            json.WriteNumber("elapsedMs", Math.Round(result.Elapsed.TotalMilliseconds, 3));
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>A summary line, then one row a record, like a terse <c>dig</c>.</summary>
    public static string ToTable(DnsQueryResult result)
    {
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.Append(c, $"{result.Name} {result.Type}: {result.ResponseCode} from {result.Server} over {Transport(result.Transport)} in {result.Elapsed.TotalMilliseconds:0.0} ms").AppendLine();

        var rows = new List<string[]>();
        foreach (var link in result.CanonicalNames)
        {
            rows.Add([link.Name, "CNAME", Seconds(link.Ttl).ToString(c), link.Target]);
        }

        foreach (var address in result.Addresses)
        {
            rows.Add([address.Name, address.Type.ToString(), Seconds(address.Ttl).ToString(c), address.Address.ToString()]);
        }

        foreach (var service in result.Services)
        {
            var addresses = service.Addresses.Count == 0 ? "no addresses" : string.Join(", ", service.Addresses.Select(a => a.Address));
            rows.Add([service.Name, "SRV", Seconds(service.Ttl).ToString(c), string.Create(c, $"{service.Priority} {service.Weight} {service.Port} {service.Target} ({addresses})")]);
        }

        if (result.IsNegative)
        {
            var why = result.ResponseCode == DnsResponseCode.NXDomain ? "the name does not exist" : $"the name has no {result.Type} records";
            var ttl = result.NegativeTtl is { } negative ? string.Create(c, $"; negative TTL {Seconds(negative)} s") : string.Empty;
            text.Append(c, $"No records: {why}{ttl}.").AppendLine();
        }

        if (rows.Count == 0)
        {
            return text.ToString();
        }

        string[] header = ["NAME", "TYPE", "TTL", "DATA"];
        var widths = Enumerable.Range(0, 3).Select(i => rows.Append(header).Max(r => r[i].Length)).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            text.Append(row[0].PadRight(widths[0])).Append("  ")
                .Append(row[1].PadRight(widths[1])).Append("  ")
                .Append(row[2].PadLeft(widths[2])).Append("  ")
                .Append(row[3]).AppendLine();
        }

        return text.ToString();
    }

    private static string Transport(DnsTransport transport) => transport == DnsTransport.Tcp ? "tcp" : "udp";

    private static long Seconds(TimeSpan ttl) => (long)Math.Floor(ttl.TotalSeconds);
}
