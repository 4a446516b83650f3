using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace CloudMapDiscovery.Http;

/// <summary>
/// Polly's retry strategy, owning every attempt after a failed first one: it counts the attempts, asks
/// <see cref="RequestState.ShouldRetry"/> whether a failure may go to another address, reports the failure to
/// balancing before each retry, and emits Polly's telemetry (meter and log category <c>Polly</c>, pipeline
/// <c>CloudMapDiscovery</c>, instance = the client's name). The first attempt is made outside the pipeline, so
/// the common case pays nothing for it; the pipeline's own first attempt hands back that attempt's outcome.
/// </summary>
internal sealed class RetryPipeline
{
    public const string PipelineName = "CloudMapDiscovery";
    public const string StrategyName = "RetryOnAnotherAddress";

    private static readonly ResiliencePropertyKey<RequestState> StateKey = new("CloudMapDiscovery.Request");

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;

    public RetryPipeline(int maxAttempts, string? clientName, CloudMapContext context, ILogger logger)
    {
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = PipelineName, InstanceName = clientName, TimeProvider = context.Clock }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = StrategyName,
                MaxRetryAttempts = maxAttempts - 1,

                // At once, elsewhere: another address does not need the first one to recover, and waiting only adds latency.
                Delay = TimeSpan.Zero,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,

                // Only failed attempts: a response, of any status, is the answer.
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is not null && StateOf(args.Context).ShouldRetry()),
                OnRetry = args =>
                {
                    StateOf(args.Context).OnRetry(args.AttemptNumber, context, logger, args.Outcome.Exception);
                    return default;
                },
            })
            .ConfigureTelemetry(context.LoggerFactory)
            .Build();
    }

    /// <summary>Runs the attempts after the failed first one, each through <paramref name="attempt"/>.</summary>
    public async ValueTask<Outcome<HttpResponseMessage>> ExecuteAsync(RequestState state, Func<RequestState, ValueTask<Outcome<HttpResponseMessage>>> attempt)
    {
        var context = ResilienceContextPool.Shared.Get(state.CallerToken);
        try
        {
            context.Properties.Set(StateKey, state);
            return await _pipeline.ExecuteOutcomeAsync(
                static (_, a) => a.State.TakeReplay(out var first) ? ValueTask.FromResult(first) : a.Attempt(a.State),
                context,
                (State: state, Attempt: attempt)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static RequestState StateOf(ResilienceContext context)
        => context.Properties.GetValue(StateKey, null!) ?? throw new InvalidOperationException("The request's state is missing from the resilience context.");
}
