// The ekso-conformance adapter for the example .NET SDK (adapter protocol version 1, CONTRACT §5).
//
// A thin console app referencing the SDK assembly (Ekso.Sdk.dll): the harness writes JSON-RPC 2.0
// requests on stdin, one per line; answers and tokensRefreshed notifications go to stdout, one per
// line; logs go to stderr only.
//
//     npx ekso-conformance sdk --adapter "mono examples/dotnet-sdk/out/EksoAdapter.exe"
//
// Every request runs as its own task (the harness sends several `call`s before any answer and
// expects them to proceed concurrently); one lock keeps each stdout line whole. No `clock`
// capability: the SDK takes the platform clock, as a real .NET SDK does, and the harness lets real
// time pass.
using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Ekso.MiniJson;
using Ekso.Sdk;
using Ekso.Sdk.Authentication;
using Ekso.Sdk.Exceptions;

namespace Ekso.Conformance.Adapter
{
    internal sealed class RpcError : Exception
    {
        public const int ParseError = -32700;
        public const int MethodNotFound = -32601;
        public const int InvalidParams = -32602;
        public const int Internal = -32603;
        public const int NoStoredTokens = -32001;

        public RpcError(int code, string message) : base(message) { Code = code; }

        public int Code { get; private set; }
    }

    internal static class Program
    {
        private const int ProtocolVersion = 1;

        /// <summary>
        /// Choice: the refresh margin this adapter configures on every RefreshableBearerAuth (and
        /// declares as refreshMarginMs). The SDK's default is 30 s; without the clock capability the
        /// harness issues tokens that live a few seconds beyond the declared margin and waits for them
        /// in real time, so a short margin keeps the run short. `--refresh-margin-ms N` changes it.
        /// </summary>
        private const int DefaultMarginMs = 500;

        private static readonly object OutLock = new object();
        private static readonly ConcurrentDictionary<string, Entry> Clients = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
        private static readonly ConcurrentDictionary<string, bool> Disposed = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        private static readonly object CreateLock = new object();
        private static TextWriter stdout;
        private static int marginMs = DefaultMarginMs;
        private static string storeDir;
        private static bool ownsStoreDir;
        private static FileTokenStore store;
        /// <summary>Held around every use of the store, and by Exit while it removes the store's directory.</summary>
        private static readonly object StoreLock = new object();
        private static bool closing;

        private sealed class Entry
        {
            public EksoClient Client;
            public HttpClientHandler Handler;
        }

        private static int Main(string[] args)
        {
            try
            {
                ParseArguments(args);
            }
            catch (ArgumentException error)
            {
                Console.Error.WriteLine("EksoAdapter: " + error.Message);
                Console.Error.WriteLine("usage: mono EksoAdapter.exe [--refresh-margin-ms N] [--store-dir DIR]");
                return 2;
            }
            // Process-wide HTTP settings an application would make: the harness fires several calls
            // at once (the .NET Framework default of 2 connections per host would queue them), and
            // small requests should not wait for Nagle.
            ServicePointManager.DefaultConnectionLimit = 256;
            ServicePointManager.UseNagleAlgorithm = false;
            ServicePointManager.Expect100Continue = false;
            ThreadPool.SetMinThreads(64, 64);

            if (storeDir == null)
            {
                storeDir = Path.Combine(Path.GetTempPath(), "ekso-dotnet-sdk-" + System.Diagnostics.Process.GetCurrentProcess().Id + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));
                ownsStoreDir = true;
            }
            store = new FileTokenStore(Path.Combine(storeDir, "tokens.json"));

            stdout = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            var stdin = new StreamReader(Console.OpenStandardInput(), new UTF8Encoding(false));
            var pending = new ConcurrentDictionary<Task, bool>();
            string line;
            while ((line = stdin.ReadLine()) != null)
            {
                line = line.Trim();
                if (line.Length == 0) continue;
                IDictionary<string, object> request;
                try
                {
                    request = Json.Parse(line) as IDictionary<string, object>;
                }
                catch (JsonException)
                {
                    request = null;
                }
                if (request == null)
                {
                    Write(ErrorMessage(null, RpcError.ParseError, "parse error: one JSON-RPC object per line"));
                    continue;
                }
                object method;
                request.TryGetValue("method", out method);
                if ("shutdown".Equals(method))
                {
                    object id;
                    request.TryGetValue("id", out id);
                    Write(new Dictionary<string, object> { { "jsonrpc", "2.0" }, { "id", id }, { "result", new Dictionary<string, object>() } });
                    Exit(); // in-flight calls are abandoned, as the protocol allows
                }
                var task = Task.Run(() => HandleAsync(request));
                pending[task] = true;
                task.ContinueWith(t => { bool ignored; pending.TryRemove(t, out ignored); });
            }
            // End of stdin means shutdown. Choice: requests already read get a few seconds to answer
            // (so that piping requests in by hand works); a hanging one is abandoned.
            Task.WaitAll(new List<Task>(pending.Keys).ToArray(), TimeSpan.FromSeconds(5));
            Exit();
            return 0;
        }

        private static void ParseArguments(string[] args)
        {
            for (var i = 0; i < args.Length; i++)
            {
                var next = i + 1 < args.Length ? args[i + 1] : null;
                switch (args[i])
                {
                    case "--refresh-margin-ms":
                        int ms;
                        if (next == null || !int.TryParse(next, NumberStyles.None, CultureInfo.InvariantCulture, out ms)) throw new ArgumentException("--refresh-margin-ms needs a whole number of milliseconds");
                        marginMs = ms;
                        i++;
                        break;
                    case "--store-dir":
                        if (string.IsNullOrEmpty(next)) throw new ArgumentException("--store-dir needs a directory");
                        storeDir = Path.GetFullPath(next);
                        i++;
                        break;
                    default:
                        throw new ArgumentException("unknown argument " + args[i]);
                }
            }
        }

        private static void Exit()
        {
            // Choice: a store in a temporary directory of our own is removed; a given --store-dir stays.
            lock (StoreLock)
            {
                // No save may start (or be cut short by the exit) once the directory goes.
                closing = true;
                if (ownsStoreDir)
                {
                    try { if (Directory.Exists(storeDir)) Directory.Delete(storeDir, true); }
                    catch (Exception error) { Log("could not remove " + storeDir + ": " + error.Message); }
                }
            }
            lock (OutLock) stdout.Flush();
            Environment.Exit(0);
        }

        private static void Log(string message)
        {
            Console.Error.WriteLine("[dotnet-adapter] " + message);
        }

        private static void Write(IDictionary<string, object> message)
        {
            var line = Json.Write(message);
            lock (OutLock) stdout.WriteLine(line);
        }

        private static IDictionary<string, object> ErrorMessage(object id, int code, string message)
        {
            return new Dictionary<string, object>
            {
                { "jsonrpc", "2.0" },
                { "id", id },
                { "error", new Dictionary<string, object> { { "code", code }, { "message", message } } },
            };
        }

        private static async Task HandleAsync(IDictionary<string, object> request)
        {
            object id, methodValue, paramsValue;
            request.TryGetValue("id", out id);
            request.TryGetValue("method", out methodValue);
            request.TryGetValue("params", out paramsValue);
            var method = methodValue as string;
            try
            {
                var p = paramsValue == null ? new Dictionary<string, object>() : paramsValue as IDictionary<string, object>;
                if (p == null) throw new RpcError(RpcError.InvalidParams, "params must be an object");
                object result;
                switch (method)
                {
                    case "initialize": result = Initialize(p); break;
                    case "createClient": result = CreateClient(p); break;
                    case "resolveBaseUrl": result = Resolve(p); break;
                    case "call": result = await CallAsync(p).ConfigureAwait(false); break;
                    case "storeSave": result = StoreSave(p); break;
                    case "storeLoad": result = StoreLoad(p); break;
                    case "disposeClient": result = DisposeClient(p); break;
                    default:
                        // advanceClock included: this adapter has no clock capability.
                        throw new RpcError(RpcError.MethodNotFound, "unknown method " + (method ?? "(none)"));
                }
                Write(new Dictionary<string, object> { { "jsonrpc", "2.0" }, { "id", id }, { "result", result } });
            }
            catch (RpcError error)
            {
                Write(ErrorMessage(id, error.Code, error.Message));
            }
            catch (Exception error)
            {
                // An adapter bug: report it and keep serving.
                Log(method + " failed: " + error);
                Write(ErrorMessage(id, RpcError.Internal, method + " failed: " + error.Message));
            }
        }

        // ---- params ------------------------------------------------------------------------------

        private static string Text(IDictionary<string, object> p, string name, bool optional = false)
        {
            object value;
            if (!p.TryGetValue(name, out value) || value == null)
            {
                if (optional) return null;
                throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be a string");
            }
            var text = value as string;
            if (text == null) throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be a string");
            return text;
        }

        private static double? Number(IDictionary<string, object> p, string name)
        {
            object value;
            if (!p.TryGetValue(name, out value) || value == null) return null;
            if (!(value is long) && !(value is double)) throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be a number");
            return Convert.ToDouble(value, CultureInfo.InvariantCulture);
        }

        private static IDictionary<string, object> Object(IDictionary<string, object> p, string name)
        {
            object value;
            p.TryGetValue(name, out value);
            var record = value as IDictionary<string, object>;
            if (record == null) throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be an object");
            return record;
        }

        private static DateTimeOffset Instant(string text, string name)
        {
            DateTimeOffset value;
            if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value))
            {
                throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be an ISO-8601 instant");
            }
            return value;
        }

        /// <summary>An ArgumentException's message without the "Parameter name: …" line the runtime appends.</summary>
        private static string FirstLine(string message)
        {
            var end = message.IndexOf('\n');
            return end < 0 ? message : message.Substring(0, end).TrimEnd('\r');
        }

        /// <summary>ISO-8601 in UTC with milliseconds, as the protocol writes instants.</summary>
        private static string Iso(DateTimeOffset value)
        {
            return value.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fff'Z'", CultureInfo.InvariantCulture);
        }

        private static Uri AbsoluteUrl(string text, string name)
        {
            Uri uri;
            if (!Uri.TryCreate(text, UriKind.Absolute, out uri)) throw new RpcError(RpcError.InvalidParams, "param '" + name + "' must be an absolute URL");
            return uri;
        }

        // ---- methods -----------------------------------------------------------------------------

        private static object Initialize(IDictionary<string, object> p)
        {
            var version = Number(p, "protocolVersion");
            if (version != ProtocolVersion) throw new RpcError(RpcError.InvalidParams, "protocolVersion must be 1");
            var sdk = typeof(EksoClient).Assembly.GetName();
            return new Dictionary<string, object>
            {
                { "name", "ekso-dotnet-example" },
                { "version", sdk.Version.ToString(3) },
                { "protocolVersion", ProtocolVersion },
                {
                    "capabilities", new Dictionary<string, object>
                    {
                        { "apiKey", true },
                        { "refreshable", true },
                        { "clock", false },
                        { "tokenStore", true },
                        { "refreshMarginMs", marginMs },
                        { "storePath", store.Path },
                    }
                },
            };
        }

        private static object CreateClient(IDictionary<string, object> p)
        {
            var clientName = Text(p, "client");
            var tenant = Text(p, "tenant");
            var baseUrl = Text(p, "baseUrl", true);
            var environment = Text(p, "environment", true) ?? TokenStoreKey.DefaultEnvironment;
            var timeoutMs = Number(p, "timeoutMs");
            var auth = Object(p, "auth");
            if (timeoutMs.HasValue && !(timeoutMs.Value > 0)) throw new RpcError(RpcError.InvalidParams, "param 'timeoutMs' must be positive");
            TimeSpan? timeout = timeoutMs.HasValue ? TimeSpan.FromMilliseconds(timeoutMs.Value) : (TimeSpan?)null;
            // Choice: the SDK talks to exactly the host it is given (the harness is on loopback), so
            // proxies from the environment are not used.
            var handler = new HttpClientHandler { UseProxy = false, AllowAutoRedirect = false };

            var created = false;
            try
            {
                lock (CreateLock)
                {
                    // Choice: an id in use (or disposed: ids are never reused) is a bad param.
                    if (Clients.ContainsKey(clientName) || Disposed.ContainsKey(clientName)) throw new RpcError(RpcError.InvalidParams, "client id \"" + clientName + "\" is already in use");
                    IEksoAuth strategy;
                    try
                    {
                        var type = Text(auth, "type");
                        if (type == "apiKey")
                        {
                            strategy = new ApiKeyAuth(Text(auth, "key"));
                        }
                        else if (type == "refreshable" || type == "stored")
                        {
                            var clientId = Text(auth, "clientId");
                            var tokenEndpoint = AbsoluteUrl(Text(auth, "tokenEndpoint"), "auth.tokenEndpoint");
                            var key = new TokenStoreKey(tenant, clientId, environment);
                            StoredTokens tokens;
                            if (type == "stored")
                            {
                                tokens = LoadStored(key);
                                if (tokens == null) throw new RpcError(RpcError.NoStoredTokens, "no stored tokens for " + key);
                            }
                            else
                            {
                                tokens = new StoredTokens(Text(auth, "accessToken"), Text(auth, "refreshToken"), Instant(Text(auth, "expiresAt"), "auth.expiresAt"));
                            }
                            var refreshable = new RefreshableBearerAuth(
                                tokens.AccessToken, tokens.RefreshToken, tokenEndpoint, clientId, tokens.ExpiresAt,
                                type == "refreshable" ? Text(auth, "clientSecret", true) : null,
                                type == "refreshable" ? Text(auth, "scope", true) : null,
                                new RefreshableBearerAuthOptions { RefreshMargin = TimeSpan.FromMilliseconds(marginMs), Timeout = timeout, HttpHandler = handler });
                            // What an application following the seed does: on every rotation, persist the
                            // pair. The handler runs before any call may use the new access token, so the
                            // notification precedes the response of every call that used it.
                            refreshable.TokensRefreshed += (sender, e) =>
                            {
                                Write(new Dictionary<string, object>
                                {
                                    { "jsonrpc", "2.0" },
                                    { "method", "tokensRefreshed" },
                                    {
                                        "params", new Dictionary<string, object>
                                        {
                                            { "client", clientName },
                                            { "accessToken", e.AccessToken },
                                            { "refreshToken", e.RefreshToken },
                                            { "expiresAt", Iso(e.ExpiresAt) },
                                        }
                                    },
                                });
                                try
                                {
                                    SaveStored(key, new StoredTokens(e.AccessToken, e.RefreshToken, e.ExpiresAt));
                                }
                                catch (Exception error)
                                {
                                    Log("saving the rotated pair failed: " + error.Message);
                                }
                            };
                            strategy = refreshable;
                        }
                        else
                        {
                            throw new RpcError(RpcError.InvalidParams, "unknown auth type \"" + type + "\"");
                        }
                        var client = new EksoClient(new EksoClientOptions
                        {
                            Tenant = tenant,
                            BaseUrl = baseUrl == null ? null : AbsoluteUrl(baseUrl, "baseUrl"),
                            Auth = strategy,
                            Timeout = timeout,
                            HttpHandler = handler,
                        });
                        Clients[clientName] = new Entry { Client = client, Handler = handler };
                        created = true;
                    }
                    catch (ArgumentException error)
                    {
                        // Constructor refusals (bad tenant, bad URL, missing token) are bad params.
                        throw new RpcError(RpcError.InvalidParams, "createClient: " + FirstLine(error.Message));
                    }
                }
            }
            finally
            {
                if (!created) handler.Dispose(); // refused: nothing holds the handler
            }
            return new Dictionary<string, object>();
        }

        private static object Resolve(IDictionary<string, object> p)
        {
            var tenant = Text(p, "tenant");
            var baseUrl = Text(p, "baseUrl", true);
            try
            {
                return new Dictionary<string, object> { { "baseUrl", EksoClient.ResolveBaseUrl(tenant, baseUrl == null ? null : AbsoluteUrl(baseUrl, "baseUrl")) } };
            }
            catch (ArgumentException error)
            {
                throw new RpcError(RpcError.InvalidParams, "resolveBaseUrl: " + FirstLine(error.Message));
            }
        }

        private static async Task<object> CallAsync(IDictionary<string, object> p)
        {
            var clientName = Text(p, "client");
            var method = Text(p, "method");
            var path = Text(p, "path");
            object body;
            p.TryGetValue("body", out body);
            Entry entry;
            if (!Clients.TryGetValue(clientName, out entry))
            {
                throw new RpcError(RpcError.InvalidParams, Disposed.ContainsKey(clientName) ? "client \"" + clientName + "\" was disposed" : "unknown client \"" + clientName + "\"");
            }
            try
            {
                var response = await entry.Client.SendAsync(method, path, body).ConfigureAwait(false);
                var result = new Dictionary<string, object> { { "outcome", "response" }, { "status", response.StatusCode } };
                if (response.Body != null) result["body"] = response.Body;
                return result;
            }
            catch (Exception error)
            {
                return new Dictionary<string, object> { { "outcome", "error" }, { "error", Describe(error) } };
            }
        }

        /// <summary>
        /// An SDK exception as the OUTCOME's error. Choice: an exception that is not an EksoException
        /// (an SDK bug) is still an outcome, with its own type name, so the checks judge it.
        /// </summary>
        private static IDictionary<string, object> Describe(Exception error)
        {
            var result = new Dictionary<string, object> { { "type", error.GetType().Name }, { "message", error.Message } };
            var ekso = error as EksoException;
            if (ekso != null && ekso.StatusCode.HasValue) result["statusCode"] = ekso.StatusCode.Value;
            var auth = error as EksoAuthException;
            if (auth != null) result["reason"] = auth.Reason.ToString();
            var rate = error as EksoRateLimitException;
            if (rate != null) result["retryAfterMs"] = (long)Math.Round(rate.RetryAfter.TotalMilliseconds);
            var validation = error as EksoValidationException;
            if (validation != null)
            {
                var fields = new Dictionary<string, object>(StringComparer.Ordinal);
                foreach (var pair in validation.FieldErrors) fields[pair.Key] = new List<object>(pair.Value);
                result["fieldErrors"] = fields;
            }
            return result;
        }

        private static void SaveStored(TokenStoreKey key, StoredTokens tokens)
        {
            lock (StoreLock)
            {
                if (closing) return; // shutting down: the store is being removed
                store.Save(key, tokens);
            }
        }

        private static StoredTokens LoadStored(TokenStoreKey key)
        {
            lock (StoreLock) return closing ? null : store.Load(key);
        }

        private static TokenStoreKey KeyOf(IDictionary<string, object> p)
        {
            return new TokenStoreKey(Text(p, "tenant"), Text(p, "clientId"), Text(p, "environment"));
        }

        private static object StoreSave(IDictionary<string, object> p)
        {
            var key = KeyOf(p);
            var tokens = Object(p, "tokens");
            SaveStored(key, new StoredTokens(Text(tokens, "accessToken"), Text(tokens, "refreshToken"), Instant(Text(tokens, "expiresAt"), "tokens.expiresAt")));
            return new Dictionary<string, object>();
        }

        private static object StoreLoad(IDictionary<string, object> p)
        {
            var found = LoadStored(KeyOf(p));
            object tokens = null;
            if (found != null)
            {
                tokens = new Dictionary<string, object>
                {
                    { "accessToken", found.AccessToken },
                    { "refreshToken", found.RefreshToken },
                    { "expiresAt", Iso(found.ExpiresAt) },
                };
            }
            return new Dictionary<string, object> { { "tokens", tokens } };
        }

        private static object DisposeClient(IDictionary<string, object> p)
        {
            var clientName = Text(p, "client");
            Entry entry;
            lock (CreateLock)
            {
                if (Clients.TryRemove(clientName, out entry))
                {
                    Disposed[clientName] = true;
                    entry.Client.Dispose();
                    entry.Handler.Dispose();
                    return new Dictionary<string, object>();
                }
            }
            // Choice: disposing twice is harmless; only a never-created id is an error.
            if (Disposed.ContainsKey(clientName)) return new Dictionary<string, object>();
            throw new RpcError(RpcError.InvalidParams, "unknown client \"" + clientName + "\"");
        }
    }
}
