using System.Net.Http.Headers;
using System.Text;
using CloudMapDiscovery.Api.Signing;

namespace CloudMapDiscovery.Api.Tests.Signing;

/// <summary>The signer against AWS's published Signature Version 4 test suite (the vectors are data: request, keys, time, expected header).</summary>
public sealed class SigV4SignerTests
{
    private static readonly AwsKeys SuiteKeys = new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", null);
    private static readonly DateTimeOffset SuiteTime = new(2015, 8, 30, 12, 36, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("GET", "https://example.amazonaws.com/", null, null, "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")] // get-vanilla
    [InlineData("POST", "https://example.amazonaws.com/", null, null, "SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")] // post-vanilla
    [InlineData("POST", "https://example.amazonaws.com/", "application/x-www-form-urlencoded", "Param1=value1", "SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")] // post-x-www-form-urlencoded
    [InlineData("GET", "https://example.amazonaws.com/?Param2=value2&Param1=value1", null, null, "SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")] // get-vanilla-query-order-key-case
    public void Matches_the_published_vector(string method, string url, string? contentType, string? body, string expected)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        var bytes = body is null ? [] : Encoding.UTF8.GetBytes(body);
        if (contentType is not null)
        {
            request.Content = new ByteArrayContent(bytes);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        }

        SigV4Signer.Sign(request, bytes, SuiteKeys, "us-east-1", "service", SuiteTime);

        request.Headers.Authorization!.ToString().Should().Be($"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, {expected}");
        request.Headers.GetValues("X-Amz-Date").Should().Equal("20150830T123600Z");
    }

    [Fact]
    public void A_session_token_is_sent_and_signed()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "https://data-servicediscovery.eu-west-1.amazonaws.com/");
        SigV4Signer.Sign(request, [], SuiteKeys with { SessionToken = "TOKEN" }, "eu-west-1", "servicediscovery", SuiteTime);

        request.Headers.GetValues("X-Amz-Security-Token").Should().Equal("TOKEN");
        request.Headers.Authorization!.Parameter.Should().Contain("SignedHeaders=host;x-amz-date;x-amz-security-token,")
            .And.Contain("/20150830/eu-west-1/servicediscovery/aws4_request");
    }

    [Fact]
    public void A_port_other_than_the_scheme_default_is_part_of_the_signed_host()
    {
        using var plain = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:8080/");
        using var other = new HttpRequestMessage(HttpMethod.Post, "http://127.0.0.1:8081/");
        SigV4Signer.Sign(plain, [], SuiteKeys, "us-east-1", "service", SuiteTime);
        SigV4Signer.Sign(other, [], SuiteKeys, "us-east-1", "service", SuiteTime);

        plain.Headers.Authorization!.Parameter.Should().NotBe(other.Headers.Authorization!.Parameter);
    }

    [Fact]
    public void The_keys_text_names_no_secret_and_no_token()
    {
        var keys = new AwsKeys("AKIDEXAMPLE", "SECRET-VALUE", "TOKEN-VALUE");

        keys.ToString().Should().Contain("AKIDEXAMPLE").And.NotContain("SECRET-VALUE").And.NotContain("TOKEN-VALUE");
    }
}
