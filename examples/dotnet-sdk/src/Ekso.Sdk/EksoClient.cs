// The client and its request pipeline: base URL, credentials, one 401 recovery, error mapping.
using System;
using System.Collections.Generic;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Ekso.MiniJson;
using Ekso.Sdk.Authentication;
using Ekso.Sdk.Exceptions;
using Ekso.Sdk.Http;

namespace Ekso.Sdk
{
    /// <summary>What an EksoClient is built from.</summary>
    public sealed class EksoClientOptions
    {
        /// <summary>The tenant: requests go to https://{Tenant}.ekso.app unless BaseUrl is set.</summary>
        public string Tenant { get; set; }

        /// <summary>Exactly one auth strategy: ApiKeyAuth or RefreshableBearerAuth.</summary>
        public IEksoAuth Auth { get; set; }

        /// <summary>Replaces https://{Tenant}.ekso.app for every API request (local development, self-hosting); may carry a path prefix.</summary>
        public Uri BaseUrl { get; set; }

        /// <summary>Bounds each API request (headers and body); null: no timeout of the SDK's own.</summary>
        public TimeSpan? Timeout { get; set; }

        /// <summary>The HTTP handler for API requests; null: the platform default.</summary>
        public HttpMessageHandler HttpHandler { get; set; }
    }

    /// <summary>A 2xx answer.</summary>
    public sealed class EksoResponse
    {
        internal EksoResponse(int statusCode, object body)
        {
            StatusCode = statusCode;
            Body = body;
        }

        public int StatusCode { get; private set; }

        /// <summary>The parsed JSON body (Dictionary / List / string / long / double / bool), or its text; null when empty.</summary>
        public object Body { get; private set; }
    }

    public sealed class EksoClient : IDisposable
    {
        /// <summary>
        /// Tenant subdomains are DNS labels. Choice: anything else is refused rather than pasted into
        /// a host name (a tenant like "evil.com/x?" would otherwise send credentials elsewhere).
        /// </summary>
        private static readonly Regex TenantLabel = new Regex("^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$");

        private readonly IEksoAuth auth;
        private readonly HttpClient http;
        private readonly bool ownsHttp;
        private readonly TimeSpan? timeout;

        public EksoClient(EksoClientOptions options)
        {
            if (options == null) throw new ArgumentNullException("options");
            if (options.Auth == null) throw new ArgumentException("EksoClientOptions.Auth is required", "options");
            BaseUrl = ResolveBaseUrl(options.Tenant, options.BaseUrl);
            Tenant = options.Tenant;
            auth = options.Auth;
            timeout = options.Timeout;
            ownsHttp = options.HttpHandler != null;
            http = ownsHttp ? Transport.Create(options.HttpHandler) : Transport.Default;
        }

        public string Tenant { get; private set; }

        /// <summary>Where API requests go, without a trailing slash.</summary>
        public string BaseUrl { get; private set; }

        /// <summary>
        /// The configured base URL (absolute http(s), no query or fragment; trailing slashes dropped,
        /// path prefix kept) or https://{tenant}.ekso.app.
        /// </summary>
        public static string ResolveBaseUrl(string tenant, Uri baseUrl)
        {
            if (baseUrl == null)
            {
                if (tenant == null || !TenantLabel.IsMatch(tenant)) throw new ArgumentException("invalid tenant \"" + tenant + "\": expected a DNS label (letters, digits, hyphens)", "tenant");
                return "https://" + tenant + ".ekso.app";
            }
            if (!baseUrl.IsAbsoluteUri) throw new ArgumentException("invalid BaseUrl: not an absolute URL", "baseUrl");
            if (baseUrl.Scheme != Uri.UriSchemeHttps && baseUrl.Scheme != Uri.UriSchemeHttp) throw new ArgumentException("invalid BaseUrl: expected http or https", "baseUrl");
            if (baseUrl.Query.Length > 0 || baseUrl.Fragment.Length > 0) throw new ArgumentException("invalid BaseUrl: no query or fragment allowed", "baseUrl");
            return baseUrl.AbsoluteUri.TrimEnd('/');
        }

        /// <summary>
        /// Sends one API request through the pipeline every typed call uses. Returns the 2xx answer;
        /// throws an EksoException subclass for everything else.
        /// </summary>
        /// <param name="path">Appended to the base URL (by concatenation, so it can never change the host); may carry a query.</param>
        /// <param name="body">A JSON value (Dictionary / List / string / number / bool), sent except with GET and HEAD.</param>
        public async Task<EksoResponse> SendAsync(string method, string path, object body = null, CancellationToken cancellationToken = default(CancellationToken))
        {
            if (string.IsNullOrEmpty(method)) throw new ArgumentException("method is required", "method");
            var verb = new HttpMethod(method.ToUpperInvariant());
            var url = new Uri(BaseUrl + (path != null && path.StartsWith("/", StringComparison.Ordinal) ? path : "/" + path));
            var token = await auth.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
            var answer = await SendOnceAsync(verb, url, body, token, cancellationToken).ConfigureAwait(false);
            if (answer.Status == 401)
            {
                // A 401 gets fresh credentials exactly once — the auth refreshes, joins a refresh in
                // flight, or hands over a token rotated since this request left — and one retry. A
                // second 401 is final. Static credentials (API keys) are never retried.
                var fresh = await auth.RenewAfterUnauthorizedAsync(token, cancellationToken).ConfigureAwait(false);
                if (fresh == null) throw AuthError(answer);
                answer = await SendOnceAsync(verb, url, body, fresh, cancellationToken).ConfigureAwait(false);
                if (answer.Status == 401) throw AuthError(answer);
            }
            if (answer.Status >= 200 && answer.Status < 300) return new EksoResponse(answer.Status, answer.Body);
            throw MapError(answer);
        }

        private Task<HttpAnswer> SendOnceAsync(HttpMethod verb, Uri url, object body, string token, CancellationToken cancellationToken)
        {
            var request = new HttpRequestMessage(verb, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            // Choice: a body given with GET or HEAD is dropped rather than failing the call.
            if (body != null && verb != HttpMethod.Get && verb != HttpMethod.Head)
            {
                request.Content = new StringContent(Json.Write(body), new UTF8Encoding(false), "application/json");
            }
            return Transport.SendAsync(http, request, timeout, cancellationToken);
        }

        /// <summary>
        /// A final 401. The reason comes from WWW-Authenticate's error_description. API keys: Revoked
        /// when the server says so, else Invalid. Refreshable credentials: as the server says, Invalid
        /// when it says nothing.
        /// </summary>
        private EksoAuthException AuthError(HttpAnswer answer)
        {
            var said = Transport.ReasonFromChallenge(answer.Header("www-authenticate"));
            AuthFailureReason reason;
            if (auth.Kind == EksoAuthKind.ApiKey) reason = said == AuthFailureReason.Revoked ? AuthFailureReason.Revoked : AuthFailureReason.Invalid;
            else reason = said ?? AuthFailureReason.Invalid;
            var what = auth.Kind == EksoAuthKind.ApiKey ? "API key" : "access token";
            return new EksoAuthException(reason, "the " + what + " was rejected (401, " + reason + ")", answer.Status, Transport.RequestIdOf(answer));
        }

        /// <summary>
        /// Non-2xx → exception type. 429 → EksoRateLimitException (Retry-After in seconds or as an HTTP
        /// date). 400/422 with a validation body → EksoValidationException. Choice: a validation body
        /// has kind "Validation" or a non-empty "fields" list; a 422 "Logic" error without fields stays
        /// an EksoApiException (the API documents 422 as business-rule violations). Else EksoApiException.
        /// </summary>
        private static EksoException MapError(HttpAnswer answer)
        {
            var requestId = Transport.RequestIdOf(answer);
            if (answer.Status == 429)
            {
                var retryAfter = Transport.ParseRetryAfter(answer.Header("retry-after"), DateTimeOffset.UtcNow) ?? RefreshableBearerAuth.DefaultRetryAfter;
                return new EksoRateLimitException(retryAfter, "rate limited; retry after " + retryAfter.TotalMilliseconds + " ms", 429, requestId);
            }
            if (answer.Status == 400 || answer.Status == 422)
            {
                var fieldErrors = ValidationFields(answer.Body);
                if (fieldErrors != null) return new EksoValidationException(fieldErrors, MessageOf(answer.Body) ?? "validation failed (" + answer.Status + ")", answer.Status, requestId);
            }
            return new EksoApiException(answer.Status, answer.Body, MessageOf(answer.Body) ?? "the API answered " + answer.Status, requestId);
        }

        private static IReadOnlyDictionary<string, IReadOnlyList<string>> ValidationFields(object body)
        {
            var record = body as IDictionary<string, object>;
            if (record == null) return null;
            object kind, fieldsValue;
            record.TryGetValue("kind", out kind);
            record.TryGetValue("fields", out fieldsValue);
            var fields = fieldsValue as IList<object> ?? new List<object>();
            if (!"Validation".Equals(kind) && fields.Count == 0) return null;
            var collected = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var entry in fields)
            {
                var e = entry as IDictionary<string, object>;
                if (e == null) continue;
                object field, code, message;
                e.TryGetValue("field", out field);
                e.TryGetValue("code", out code);
                e.TryGetValue("message", out message);
                var text = code as string ?? message as string;
                if (text == null) continue;
                var name = field as string ?? "";
                List<string> codes;
                if (!collected.TryGetValue(name, out codes))
                {
                    codes = new List<string>();
                    collected[name] = codes;
                    order.Add(name);
                }
                codes.Add(text);
            }
            var result = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            foreach (var name in order) result[name] = collected[name].AsReadOnly();
            return result;
        }

        private static string MessageOf(object body)
        {
            var record = body as IDictionary<string, object>;
            object message;
            return record != null && record.TryGetValue("message", out message) ? message as string : null;
        }

        public void Dispose()
        {
            if (ownsHttp) http.Dispose();
        }
    }
}
