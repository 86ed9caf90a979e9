// One HTTP exchange, read whole, with a per-request timeout; transport failures become
// EksoNetworkException. Shared by the client pipeline and the token exchange.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using Ekso.MiniJson;
using Ekso.Sdk.Exceptions;

namespace Ekso.Sdk.Http
{
    /// <summary>A whole HTTP answer: status, headers (case-insensitive names) and the parsed body.</summary>
    internal sealed class HttpAnswer
    {
        internal HttpAnswer(int status, IDictionary<string, string> headers, object body)
        {
            Status = status;
            Headers = headers;
            Body = body;
        }

        internal int Status { get; private set; }
        internal IDictionary<string, string> Headers { get; private set; }

        /// <summary>JSON (Dictionary / List / string / long / double / bool), else the text; null when empty.</summary>
        internal object Body { get; private set; }

        internal string Header(string name)
        {
            string value;
            return Headers.TryGetValue(name, out value) ? value : null;
        }
    }

    internal static class Transport
    {
        /// <summary>Bodies larger than this are cut (the server is not trusted to be small).</summary>
        private const int MaxBodyBytes = 4 * 1024 * 1024;

        private static readonly Lazy<HttpClient> DefaultClient = new Lazy<HttpClient>(() => Create(null));

        /// <summary>
        /// An HttpClient over the given handler (or the platform default). Choice: HttpClient's own
        /// timeout is off; each request carries its own (EksoClientOptions.Timeout).
        /// </summary>
        internal static HttpClient Create(HttpMessageHandler handler)
        {
            var client = handler == null ? new HttpClient() : new HttpClient(handler, false);
            client.Timeout = System.Threading.Timeout.InfiniteTimeSpan;
            return client;
        }

        internal static HttpClient Default { get { return DefaultClient.Value; } }

        internal static async Task<HttpAnswer> SendAsync(HttpClient client, HttpRequestMessage request, TimeSpan? timeout, CancellationToken cancellation)
        {
            // No "Expect: 100-continue" round trip before a body.
            request.Headers.ExpectContinue = false;
            var what = request.Method + " " + Describe(request.RequestUri);
            using (var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellation))
            {
                if (timeout.HasValue) cts.CancelAfter(timeout.Value);
                try
                {
                    using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cts.Token).ConfigureAwait(false))
                    {
                        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                        foreach (var h in response.Headers) headers[h.Key] = string.Join(", ", h.Value);
                        if (response.Content != null)
                        {
                            foreach (var h in response.Content.Headers) headers[h.Key] = string.Join(", ", h.Value);
                        }
                        string text = null;
                        if (response.Content != null)
                        {
                            // The timeout covers the body too: a server that stalls mid-body is a timeout.
                            var read = ReadLimitedAsync(response.Content);
                            var finished = await Task.WhenAny(read, Task.Delay(System.Threading.Timeout.Infinite, cts.Token)).ConfigureAwait(false);
                            if (finished != read)
                            {
                                response.Dispose();
                                cts.Token.ThrowIfCancellationRequested();
                            }
                            text = await read.ConfigureAwait(false);
                        }
                        return new HttpAnswer((int)response.StatusCode, headers, ParseBody(text));
                    }
                }
                catch (OperationCanceledException error)
                {
                    if (cancellation.IsCancellationRequested) throw;
                    throw new EksoNetworkException(what + " timed out after " + (timeout.HasValue ? timeout.Value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + " ms" : "?"), error);
                }
                catch (HttpRequestException error) { throw Network(what, error); }
                catch (WebException error) { throw Network(what, error); }
                catch (IOException error) { throw Network(what, error); }
                catch (SocketException error) { throw Network(what, error); }
                catch (ObjectDisposedException error) { throw Network(what, error); }
            }
        }

        private static async Task<string> ReadLimitedAsync(HttpContent content)
        {
            using (var stream = await content.ReadAsStreamAsync().ConfigureAwait(false))
            using (var buffer = new MemoryStream())
            {
                var chunk = new byte[16384];
                int n;
                while ((n = await stream.ReadAsync(chunk, 0, chunk.Length).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + n > MaxBodyBytes) break;
                    buffer.Write(chunk, 0, n);
                }
                return new UTF8Encoding(false, false).GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
            }
        }

        private static EksoNetworkException Network(string what, Exception error)
        {
            var root = error;
            while (root.InnerException != null) root = root.InnerException;
            return new EksoNetworkException(what + " failed: " + root.Message, error);
        }

        /// <summary>The URL without its query (which may carry anything) for messages.</summary>
        private static string Describe(Uri uri)
        {
            if (uri == null) return "(no URL)";
            return uri.GetLeftPart(UriPartial.Path);
        }

        private static object ParseBody(string text)
        {
            if (string.IsNullOrEmpty(text)) return null;
            try
            {
                return Json.Parse(text);
            }
            catch (JsonException)
            {
                return text;
            }
        }

        /// <summary>Retry-After (delta seconds or an HTTP date) as a TimeSpan; null when absent or unreadable.</summary>
        internal static TimeSpan? ParseRetryAfter(string value, DateTimeOffset now)
        {
            if (value == null) return null;
            value = value.Trim();
            if (Regex.IsMatch(value, @"^\d+(\.\d+)?$"))
            {
                return TimeSpan.FromMilliseconds(Math.Round(double.Parse(value, CultureInfo.InvariantCulture) * 1000));
            }
            DateTimeOffset when;
            if (DateTimeOffset.TryParseExact(value, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out when)
                || DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out when))
            {
                var delta = when - now;
                return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
            }
            return null;
        }

        /// <summary>The reason a 401's WWW-Authenticate error_description names (expired / revoked / invalid), else null.</summary>
        internal static AuthFailureReason? ReasonFromChallenge(string header)
        {
            if (header == null) return null;
            var match = Regex.Match(header, "error_description\\s*=\\s*\"([^\"]*)\"", RegexOptions.IgnoreCase);
            var description = match.Success ? match.Groups[1].Value.ToLowerInvariant() : "";
            if (Regex.IsMatch(description, @"\bexpired\b")) return AuthFailureReason.Expired;
            if (Regex.IsMatch(description, @"\brevoked\b")) return AuthFailureReason.Revoked;
            if (Regex.IsMatch(description, @"\binvalid\b")) return AuthFailureReason.Invalid;
            return null;
        }

        internal static string RequestIdOf(HttpAnswer answer)
        {
            return answer.Header("x-request-id") ?? answer.Header("request-id") ?? answer.Header("x-correlation-id");
        }
    }
}
