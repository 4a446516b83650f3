using System.Collections.Concurrent;

namespace CloudMapDiscovery.Api.Tests.Source;

/// <summary>A primary handler standing in for the tasks: answers 200 and remembers each request as the task would have received it.</summary>
internal sealed class RecordingHandler(ConcurrentQueue<HttpRequestMessage> sent) : HttpMessageHandler
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var copy = new HttpRequestMessage(request.Method, request.RequestUri);
        copy.Headers.Host = request.Headers.Host;
        sent.Enqueue(copy);
        return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK));
    }
}
