using CloudMapDiscovery.Shared;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace CloudMapDiscovery.Http;

/// <summary>
/// Polly's retry strategy, running every attempt after a failed first one: it asks <see cref="RequestState.ShouldRetry"/>
/// whether a failure may go to another address, reports the failure to balancing before each retry, and emits Polly's
/// telemetry (meter and log category <c>Polly</c>, pipeline <c>CloudMapDiscovery</c>, instance = the client's name).
/// </summary>
/// <remarks>
/// The first attempt is made outside the pipeline, so the common case pays nothing for it, and the pipeline starts at
/// the first retry: Polly times and reports only attempts it runs (its attempt 0 is the request's second), instead of a
/// replay of the first that would take no time whatever that attempt waited. The first failure is reported here, as
/// Polly's <c>OnRetry</c> reports the later ones; the first attempt's duration is its span. The attempt limit is kept by
/// <see cref="RequestState.ShouldRetry"/>, which counts the first attempt too.
/// </remarks>
internal sealed class RetryPipeline
{
    public const string PipelineName = "CloudMapDiscovery";
    public const string StrategyName = "RetryOnAnotherAddress";

    private static readonly ResiliencePropertyKey<RequestState> StateKey = new("CloudMapDiscovery.Request");

    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly CloudMapContext _context;
    private readonly ILogger _logger;

    public RetryPipeline(int maxAttempts, string? clientName, CloudMapContext context, ILogger logger)
    {
        _context = context;
        _logger = logger;
        _pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { Name = PipelineName, InstanceName = clientName, TimeProvider = context.Clock }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                Name = StrategyName,
                // A backstop only: RequestState.ShouldRetry stops at MaxAttempts, counting the attempt made before the pipeline.
                MaxRetryAttempts = maxAttempts,

                // At once, elsewhere: another address does not need the first one to recover, and waiting only adds latency.
                Delay = TimeSpan.Zero,
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,

                // Only failed attempts: a response, of any status, is the answer.
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Exception is not null && StateOf(args.Context).ShouldRetry()),
                OnRetry = args =>
                {
                    StateOf(args.Context).OnRetry(context, logger, args.Outcome.Exception);
                    return default;
                },
            })
            .ConfigureTelemetry(context.LoggerFactory)
            .Build();
    }

    /// <summary>Retries the failed first attempt, whose <paramref name="failure"/> may go elsewhere, and runs each later attempt through <paramref name="attempt"/>.</summary>
    public async ValueTask<Outcome<HttpResponseMessage>> ExecuteAsync(RequestState state, Exception failure, Func<RequestState, ValueTask<Outcome<HttpResponseMessage>>> attempt)
    {
        state.OnRetry(_context, _logger, failure);
        var context = ResilienceContextPool.Shared.Get(state.CallerToken);
        try
        {
            context.Properties.Set(StateKey, state);
            return await _pipeline.ExecuteOutcomeAsync(static (_, a) => a.Attempt(a.State), context, (State: state, Attempt: attempt)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static RequestState StateOf(ResilienceContext context)
        => context.Properties.GetValue(StateKey, null!) ?? throw new InvalidOperationException("The request's state is missing from the resilience context.");
}
