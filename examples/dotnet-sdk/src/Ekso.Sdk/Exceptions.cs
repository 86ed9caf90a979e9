// The documented exception hierarchy (Ekso.Sdk.Exceptions; docs "Error handling").
using System;
using System.Collections.Generic;

namespace Ekso.Sdk.Exceptions
{
    /// <summary>Why authentication failed.</summary>
    public enum AuthFailureReason
    {
        /// <summary>The access token expired and the refresh failed, or there is no refresh token.</summary>
        Expired,
        /// <summary>The credential is malformed or unknown.</summary>
        Invalid,
        /// <summary>The credential was explicitly revoked.</summary>
        Revoked,
        /// <summary>The device-code flow timed out before approval.</summary>
        FlowTimeout,
        /// <summary>The user denied the consent screen.</summary>
        AccessDenied,
    }

    /// <summary>Base of every SDK exception.</summary>
    public abstract class EksoException : Exception
    {
        protected EksoException(string message, int? statusCode, string requestId, Exception inner)
            : base(message, inner)
        {
            StatusCode = statusCode;
            RequestId = requestId;
        }

        /// <summary>The HTTP status that caused the failure, when there was one.</summary>
        public int? StatusCode { get; private set; }

        /// <summary>The server's correlation id, when it sent one.</summary>
        public string RequestId { get; private set; }
    }

    /// <summary>Credentials rejected or refresh failed: auth that cannot be recovered automatically.</summary>
    public sealed class EksoAuthException : EksoException
    {
        public EksoAuthException(AuthFailureReason reason, string message, int? statusCode = null, string requestId = null)
            : base(message, statusCode, requestId, null)
        {
            Reason = reason;
        }

        public AuthFailureReason Reason { get; private set; }
    }

    /// <summary>HTTP 429.</summary>
    public sealed class EksoRateLimitException : EksoException
    {
        public EksoRateLimitException(TimeSpan retryAfter, string message, int? statusCode = 429, string requestId = null)
            : base(message, statusCode, requestId, null)
        {
            RetryAfter = retryAfter;
        }

        /// <summary>Always populated: from the server's Retry-After header (seconds or an HTTP date).</summary>
        public TimeSpan RetryAfter { get; private set; }
    }

    /// <summary>HTTP 400 / 422 with a validation body.</summary>
    public sealed class EksoValidationException : EksoException
    {
        public EksoValidationException(IReadOnlyDictionary<string, IReadOnlyList<string>> fieldErrors, string message, int? statusCode, string requestId = null)
            : base(message, statusCode, requestId, null)
        {
            FieldErrors = fieldErrors;
        }

        /// <summary>Field name → its error codes (or messages), in the server's order.</summary>
        public IReadOnlyDictionary<string, IReadOnlyList<string>> FieldErrors { get; private set; }
    }

    /// <summary>DNS, TCP, TLS or timeout: the request got no HTTP answer.</summary>
    public sealed class EksoNetworkException : EksoException
    {
        public EksoNetworkException(string message, Exception inner)
            : base(message, null, null, inner) { }
    }

    /// <summary>Any other non-2xx answer.</summary>
    public sealed class EksoApiException : EksoException
    {
        public EksoApiException(int statusCode, object body, string message, string requestId = null)
            : base(message, statusCode, requestId, null)
        {
            Body = body;
        }

        /// <summary>The parsed JSON body (or its text), null when empty.</summary>
        public object Body { get; private set; }
    }
}
