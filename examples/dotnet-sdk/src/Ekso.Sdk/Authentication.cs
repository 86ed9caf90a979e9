// The two auth strategies (seed: "Pick an auth strategy"), both implementing IEksoAuth.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ekso.Sdk.Exceptions;
using Ekso.Sdk.Http;

namespace Ekso.Sdk.Authentication
{
    public enum EksoAuthKind
    {
        /// <summary>Static credentials: a 401 is final.</summary>
        ApiKey,
        /// <summary>An OAuth pair: a 401 gets fresh credentials once.</summary>
        Refreshable,
    }

    /// <summary>An auth strategy, as the client pipeline sees it.</summary>
    public interface IEksoAuth
    {
        EksoAuthKind Kind { get; }

        /// <summary>The bearer token for the next request (a refreshable auth may refresh first).</summary>
        Task<string> GetAccessTokenAsync(CancellationToken cancellationToken);

        /// <summary>
        /// After a 401 to a request that presented <paramref name="rejectedToken"/>: a fresh token for
        /// one retry, or null when this strategy cannot renew. May throw the refresh's failure.
        /// </summary>
        Task<string> RenewAfterUnauthorizedAsync(string rejectedToken, CancellationToken cancellationToken);
    }

    /// <summary>A static API key (ek_live_...), sent as a bearer token on every request.</summary>
    public sealed class ApiKeyAuth : IEksoAuth
    {
        private readonly string apiKey;

        public ApiKeyAuth(string apiKey)
        {
            if (string.IsNullOrEmpty(apiKey)) throw new ArgumentException("apiKey must be non-empty", "apiKey");
            this.apiKey = apiKey;
        }

        public EksoAuthKind Kind { get { return EksoAuthKind.ApiKey; } }

        public Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
        {
            return Task.FromResult(apiKey);
        }

        public Task<string> RenewAfterUnauthorizedAsync(string rejectedToken, CancellationToken cancellationToken)
        {
            return Task.FromResult<string>(null); // static credentials cannot be renewed
        }
    }

    /// <summary>The new pair after one successful rotation: persist it (the old refresh token is dead).</summary>
    public sealed class TokensRefreshedEventArgs : EventArgs
    {
        public TokensRefreshedEventArgs(string accessToken, string refreshToken, DateTimeOffset expiresAt)
        {
            AccessToken = accessToken;
            RefreshToken = refreshToken;
            ExpiresAt = expiresAt;
        }

        public string AccessToken { get; private set; }
        public string RefreshToken { get; private set; }
        public DateTimeOffset ExpiresAt { get; private set; }
    }

    /// <summary>Tuning of RefreshableBearerAuth; every member has a default.</summary>
    public sealed class RefreshableBearerAuthOptions
    {
        public RefreshableBearerAuthOptions()
        {
            RefreshMargin = RefreshableBearerAuth.DefaultRefreshMargin;
        }

        /// <summary>Refresh proactively when less than this is left on the access token (default 30 s).</summary>
        public TimeSpan RefreshMargin { get; set; }

        /// <summary>Bounds each token-endpoint request; null: no timeout of the SDK's own.</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>The HTTP handler for the token endpoint; null: the platform default.</summary>
        public HttpMessageHandler HttpHandler { get; set; }
    }

    /// <summary>
    /// An OAuth access + refresh token pair that renews itself at the token endpoint, with rotation.
    ///
    /// Single flight: every caller that needs fresh tokens while a refresh is in flight waits for that
    /// one refresh (refresh tokens are single use: a second refresh with the same token would be a
    /// replay and revoke the whole family). TokensRefreshed handlers run before any waiting caller
    /// proceeds with the new access token. Time is the platform clock.
    /// </summary>
    public sealed class RefreshableBearerAuth : IEksoAuth
    {
        public static readonly TimeSpan DefaultRefreshMargin = TimeSpan.FromSeconds(30);

        /// <summary>
        /// Choice: a token response without expires_in is taken to live 300 s (Ekso's documented
        /// default), rather than forever (an expired token sent) or zero (a refresh per call).
        /// </summary>
        private const int DefaultExpiresInSeconds = 300;

        /// <summary>Choice: the docs say RetryAfter is always populated; without a usable header, 1 s.</summary>
        internal static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(1);

        private static readonly Task Done = Task.FromResult(true);

        private readonly object gate = new object();
        private readonly Uri tokenEndpoint;
        private readonly string clientId;
        private readonly string clientSecret;
        private readonly string scope;
        private readonly TimeSpan refreshMargin;
        private readonly TimeSpan? timeout;
        private readonly HttpClient http;

        private string accessToken;
        private string refreshToken;
        private DateTimeOffset expiresAt;
        /// <summary>Lifetime of the current access token when this SDK obtained it (unknown for the first).</summary>
        private TimeSpan? lifetime;
        /// <summary>The one refresh in flight, shared by every caller that needs fresh tokens.</summary>
        private Task inFlight;
        /// <summary>Set once a refresh was refused: the session is over.</summary>
        private EksoAuthException dead;

        public RefreshableBearerAuth(string accessToken, string refreshToken, Uri tokenEndpoint, string clientId, DateTimeOffset expiresAt,
            string clientSecret = null, string scope = null, RefreshableBearerAuthOptions options = null)
        {
            if (string.IsNullOrEmpty(accessToken)) throw new ArgumentException("accessToken is required", "accessToken");
            if (string.IsNullOrEmpty(refreshToken)) throw new ArgumentException("refreshToken is required", "refreshToken");
            if (string.IsNullOrEmpty(clientId)) throw new ArgumentException("clientId is required", "clientId");
            if (tokenEndpoint == null || !tokenEndpoint.IsAbsoluteUri || (tokenEndpoint.Scheme != Uri.UriSchemeHttps && tokenEndpoint.Scheme != Uri.UriSchemeHttp))
            {
                throw new ArgumentException("tokenEndpoint must be an absolute http(s) URL", "tokenEndpoint");
            }
            options = options ?? new RefreshableBearerAuthOptions();
            if (options.RefreshMargin < TimeSpan.Zero) throw new ArgumentException("RefreshMargin must not be negative", "options");
            this.accessToken = accessToken;
            this.refreshToken = refreshToken;
            this.tokenEndpoint = tokenEndpoint;
            this.clientId = clientId;
            this.expiresAt = expiresAt;
            this.clientSecret = clientSecret;
            this.scope = scope;
            refreshMargin = options.RefreshMargin;
            timeout = options.Timeout;
            http = options.HttpHandler == null ? Transport.Default : Transport.Create(options.HttpHandler);
        }

        /// <summary>Raised after each rotation, before any call uses the new access token. Persist the pair here.</summary>
        public event EventHandler<TokensRefreshedEventArgs> TokensRefreshed;

        public EksoAuthKind Kind { get { return EksoAuthKind.Refreshable; } }

        public TimeSpan RefreshMargin { get { return refreshMargin; } }

        /// <summary>True once a refresh was refused: every call fails until the application supplies new tokens.</summary>
        public bool IsSessionDead { get { lock (gate) return dead != null; } }

        public async Task<string> GetAccessTokenAsync(CancellationToken cancellationToken)
        {
            // Joins a refresh in flight (the current token may be superseded any moment, and the
            // event must reach the application before the new token is used), or starts one when
            // the token has expired or is inside the margin.
            await WaitAsync(JoinOrStart(() => ShouldRefresh(DateTimeOffset.UtcNow)), cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                if (dead != null) throw dead;
                return accessToken;
            }
        }

        public async Task<string> RenewAfterUnauthorizedAsync(string rejectedToken, CancellationToken cancellationToken)
        {
            // Joins the refresh in flight; else, if the rejected token is still the current one,
            // refreshes once; else the token was rotated while the request was on the wire: use it.
            await WaitAsync(JoinOrStart(() => accessToken == rejectedToken), cancellationToken).ConfigureAwait(false);
            lock (gate)
            {
                if (dead != null) throw dead;
                return accessToken;
            }
        }

        /// <summary>
        /// Proactive refresh: expired, or less than the margin left. Choice: when the server issues
        /// tokens that live no longer than the margin, the margin for that token is half its lifetime
        /// (otherwise every call would refresh). The first token's lifetime is unknown.
        /// </summary>
        private bool ShouldRefresh(DateTimeOffset now)
        {
            var margin = lifetime.HasValue && lifetime.Value <= refreshMargin ? TimeSpan.FromTicks(lifetime.Value.Ticks / 2) : refreshMargin;
            return now >= expiresAt - margin;
        }

        /// <summary>The refresh in flight; else a new one when <paramref name="needed"/> says so (under the lock); else done.</summary>
        private Task JoinOrStart(Func<bool> needed)
        {
            TaskCompletionSource<bool> flight;
            lock (gate)
            {
                if (dead != null) return FromException(dead);
                if (inFlight != null) return inFlight;
                if (!needed()) return Done;
                flight = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
                inFlight = flight.Task;
            }
            RunFlight(flight);
            return flight.Task;
        }

        private async void RunFlight(TaskCompletionSource<bool> flight)
        {
            Exception failure = null;
            try
            {
                await ExchangeAsync().ConfigureAwait(false);
            }
            catch (Exception error)
            {
                failure = error;
            }
            // Only now may waiters proceed: the state is updated and the event handlers have run.
            lock (gate) inFlight = null;
            if (failure == null) flight.SetResult(true);
            else flight.SetException(failure);
        }

        /// <summary>A caller's cancellation stops its wait, never the shared refresh.</summary>
        private static async Task WaitAsync(Task task, CancellationToken cancellationToken)
        {
            if (!cancellationToken.CanBeCanceled || task.IsCompleted)
            {
                await task.ConfigureAwait(false);
                return;
            }
            var cancelled = new TaskCompletionSource<bool>();
            using (cancellationToken.Register(() => cancelled.TrySetCanceled()))
            {
                await (await Task.WhenAny(task, cancelled.Task).ConfigureAwait(false)).ConfigureAwait(false);
            }
        }

        private static Task FromException(Exception error)
        {
            var source = new TaskCompletionSource<bool>();
            source.SetException(error);
            return source.Task;
        }

        /// <summary>One exchange at the token endpoint: POST grant_type=refresh_token, refresh_token, client_id.</summary>
        private async Task ExchangeAsync()
        {
            string presented;
            lock (gate)
            {
                if (dead != null) throw dead;
                presented = refreshToken;
            }
            var form = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("grant_type", "refresh_token"),
                new KeyValuePair<string, string>("refresh_token", presented),
                new KeyValuePair<string, string>("client_id", clientId),
            };
            if (!string.IsNullOrEmpty(scope)) form.Add(new KeyValuePair<string, string>("scope", scope));
            var request = new HttpRequestMessage(HttpMethod.Post, tokenEndpoint) { Content = new FormUrlEncodedContent(form) };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (clientSecret != null)
            {
                // RFC 6749 §2.3.1: both parts form-urlencoded before base64.
                var pair = Uri.EscapeDataString(clientId) + ":" + Uri.EscapeDataString(clientSecret);
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(pair)));
            }
            // Choice: the new token's expiry is counted from when the request was sent, not from when
            // the answer arrived: the server issued it in between, so the SDK never believes a token
            // lives longer than it does.
            var sentAt = DateTimeOffset.UtcNow;
            // A transport failure throws EksoNetworkException here. Choice: it is transient — the
            // session and the presented refresh token are kept for a later call; the server may have
            // rotated anyway (lost answer), and only its policy can decide then.
            var answer = await Transport.SendAsync(http, request, timeout, CancellationToken.None).ConfigureAwait(false);
            if (answer.Status < 200 || answer.Status >= 300) throw Failure(answer);

            var body = answer.Body as IDictionary<string, object>;
            object value;
            var access = body != null && body.TryGetValue("access_token", out value) ? value as string : null;
            if (string.IsNullOrEmpty(access))
            {
                // Choice: a 2xx without an access token is a server fault, treated as transient.
                throw new EksoApiException(answer.Status, answer.Body, "the token endpoint answered " + answer.Status + " without an access_token");
            }
            var issuedRefresh = body.TryGetValue("refresh_token", out value) ? value as string : null;
            var expiresIn = body.TryGetValue("expires_in", out value) && (value is long || value is double) && Convert.ToDouble(value, CultureInfo.InvariantCulture) > 0
                ? Convert.ToDouble(value, CultureInfo.InvariantCulture)
                : DefaultExpiresInSeconds;

            TokensRefreshedEventArgs args;
            lock (gate)
            {
                accessToken = access;
                // Choice: when the server issues no new refresh token (RFC 6749 §6 allows keeping the
                // old one), the presented one is still valid by the server's own account: kept.
                refreshToken = string.IsNullOrEmpty(issuedRefresh) ? presented : issuedRefresh;
                lifetime = TimeSpan.FromSeconds(expiresIn);
                expiresAt = sentAt + lifetime.Value;
                args = new TokensRefreshedEventArgs(accessToken, refreshToken, expiresAt);
            }
            RaiseTokensRefreshed(args);
        }

        private void RaiseTokensRefreshed(TokensRefreshedEventArgs args)
        {
            var handlers = TokensRefreshed;
            if (handlers == null) return;
            foreach (var handler in handlers.GetInvocationList())
            {
                try
                {
                    ((EventHandler<TokensRefreshedEventArgs>)handler)(this, args);
                }
                catch (Exception error)
                {
                    // Choice: a failing handler does not undo the rotation (the server has rotated
                    // already); it is reported and the calls proceed.
                    System.Diagnostics.Trace.TraceWarning("TokensRefreshed handler failed: " + error.Message);
                }
            }
        }

        /// <summary>
        /// A failed exchange. 400/401 with an OAuth error body (invalid_grant, invalid_client, ...):
        /// the refresh token is refused → EksoAuthException(Expired) with the endpoint's status, and
        /// the session is over. Anything else is transient and keeps the session: 429 →
        /// EksoRateLimitException, others → EksoApiException. Choice: a 400/401 without an OAuth
        /// error body (a proxy's page, say) cannot be told from a glitch, so it is transient too.
        /// </summary>
        private EksoException Failure(HttpAnswer answer)
        {
            var body = answer.Body as IDictionary<string, object>;
            object error;
            var oauthError = body != null && body.TryGetValue("error", out error) ? error as string : null;
            var requestId = Transport.RequestIdOf(answer);
            if ((answer.Status == 400 || answer.Status == 401) && oauthError != null)
            {
                var refused = new EksoAuthException(AuthFailureReason.Expired,
                    "the token endpoint refused the refresh (" + answer.Status + " " + oauthError + "); sign in again", answer.Status, requestId);
                lock (gate) dead = refused; // no refresh is ever attempted again with this token
                return refused;
            }
            if (answer.Status == 429)
            {
                var retryAfter = Transport.ParseRetryAfter(answer.Header("retry-after"), DateTimeOffset.UtcNow) ?? DefaultRetryAfter;
                return new EksoRateLimitException(retryAfter, "the token endpoint rate limited the refresh", 429, requestId);
            }
            return new EksoApiException(answer.Status, answer.Body, "the token endpoint answered " + answer.Status + "; the session is kept for a later retry", requestId);
        }
    }
}
