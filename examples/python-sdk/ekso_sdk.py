"""A tiny Ekso SDK in Python 3, standard library only.

It exists to show an SDK author how the conformance harness drives an SDK written in another
language (see adapter.py and README.md). It implements the same auth behaviour as the reference
TypeScript SDK, in miniature:

* ApiKeyAuth: the key as a bearer token on every request; a 401 is final (Revoked or Invalid).
* RefreshableBearerAuth: refreshes when less than `refresh_margin_ms` remains; concurrent callers
  share ONE refresh (single flight: a lock and a shared "flight" object); the TokensRefreshed
  callbacks run before any caller uses the new access token; a refused refresh (400/401 OAuth
  error such as invalid_grant) kills the session with EksoAuthException("Expired"); a transient
  failure (5xx, reset, timeout) keeps the session for a later retry.
* EksoClient.request: a 401 gets fresh credentials once (refresh, join the refresh in flight, or
  use a token rotated meanwhile) and one retry; errors map to the documented exception types.
"""

import base64
import email.utils
import http.client
import json
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

DEFAULT_REFRESH_MARGIN_MS = 30000
DEFAULT_EXPIRES_IN_S = 300
DEFAULT_RETRY_AFTER_MS = 1000

# Proxies from the environment are ignored: the SDK talks to exactly the host it is given.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# --------------------------------------------------------------------------------------------
# Exceptions (Ekso.Sdk.Exceptions)
# --------------------------------------------------------------------------------------------

class EksoException(Exception):
    type_name = "EksoException"

    def __init__(self, message, status_code=None, request_id=None):
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.request_id = request_id


class EksoAuthException(EksoException):
    type_name = "EksoAuthException"

    def __init__(self, reason, message, status_code=None, request_id=None):
        super().__init__(message, status_code, request_id)
        self.reason = reason  # Expired | Invalid | Revoked | FlowTimeout | AccessDenied


class EksoRateLimitException(EksoException):
    type_name = "EksoRateLimitException"

    def __init__(self, retry_after_ms, message, status_code=429, request_id=None):
        super().__init__(message, status_code, request_id)
        self.retry_after_ms = retry_after_ms


class EksoValidationException(EksoException):
    type_name = "EksoValidationException"

    def __init__(self, field_errors, message, status_code=None, request_id=None):
        super().__init__(message, status_code, request_id)
        self.field_errors = field_errors


class EksoNetworkException(EksoException):
    type_name = "EksoNetworkException"

    def __init__(self, message, cause=None):
        super().__init__(message)
        self.__cause__ = cause


class EksoApiException(EksoException):
    type_name = "EksoApiException"

    def __init__(self, status_code, body, message, request_id=None):
        super().__init__(message, status_code, request_id)
        self.body = body


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------

class Response(object):
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict with lower-case names
        self.body = body  # parsed JSON, text, or None when empty


def _parse_body(raw):
    if not raw:
        return None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def http_request(method, url, headers, data, timeout_s):
    """One HTTP exchange. Non-2xx statuses are responses; transport failures raise EksoNetworkException."""
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(req, timeout=timeout_s) as res:
            return Response(res.status, {k.lower(): v for k, v in res.headers.items()}, _parse_body(res.read()))
    except urllib.error.HTTPError as err:
        try:
            raw = err.read()
        except Exception:  # a reset while reading the error body
            raw = b""
        return Response(err.code, {k.lower(): v for k, v in (err.headers or {}).items()}, _parse_body(raw))
    except (urllib.error.URLError, socket.timeout, OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        timed_out = isinstance(reason, socket.timeout) or "timed out" in str(reason)
        what = "timed out after %s s" % timeout_s if timed_out else "failed: %s" % reason
        raise EksoNetworkException("%s %s %s" % (method, url.split("?")[0], what), err)


def parse_retry_after_ms(value, now_ms):
    if value is None:
        return None
    value = value.strip()
    if re.match(r"^\d+(\.\d+)?$", value):
        return int(round(float(value) * 1000))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0, int(when.timestamp() * 1000 - now_ms))


def reason_from_challenge(header):
    match = re.search(r'error_description\s*=\s*"([^"]*)"', header or "")
    description = (match.group(1) if match else "").lower()
    for word, reason in (("expired", "Expired"), ("revoked", "Revoked"), ("invalid", "Invalid")):
        if re.search(r"\b%s\b" % word, description):
            return reason
    return None


def to_epoch_ms(value):
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 1000)


def iso_from_ms(ms):
    return datetime.fromtimestamp(ms / 1000.0, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------------------------
# Auth strategies
# --------------------------------------------------------------------------------------------

class ApiKeyAuth(object):
    kind = "apiKey"

    def __init__(self, api_key):
        if not api_key:
            raise ValueError("api_key must be non-empty")
        self._key = api_key

    def get_credential(self):
        return self._key

    def renew_after_unauthorized(self, rejected):
        return None  # static credentials cannot be renewed


class _Flight(object):
    """One refresh in flight; every caller that needs fresh tokens waits on it."""

    def __init__(self):
        self.done = threading.Event()
        self.error = None


class RefreshableBearerAuth(object):
    kind = "refreshable"

    def __init__(self, access_token, refresh_token, token_endpoint, client_id, expires_at,
                 client_secret=None, scope=None, refresh_margin_ms=DEFAULT_REFRESH_MARGIN_MS,
                 timeout_s=None, now=None):
        self._access = access_token
        self._refresh = refresh_token
        self._expires_at_ms = to_epoch_ms(expires_at)
        self._token_endpoint = token_endpoint
        self._client_id = client_id
        self._client_secret = client_secret
        self._scope = scope
        self._margin_ms = refresh_margin_ms
        self._timeout_s = timeout_s
        self._now = now or (lambda: time.time() * 1000)
        self._lock = threading.Lock()
        self._flight = None
        self._dead = None
        self._listeners = []

    def on_tokens_refreshed(self, callback):
        """callback(access_token, refresh_token, expires_at_ms) — runs before the new token is used."""
        self._listeners.append(callback)

    def get_credential(self):
        # Joins a refresh in flight; else refreshes if the token is within the margin; else the current token.
        return self._acquire(lambda: self._now() >= self._expires_at_ms - self._margin_ms)

    def renew_after_unauthorized(self, rejected):
        # Joins a refresh in flight; else refreshes once if the rejected token is still the current one;
        # else hands over the token rotated since the request left.
        return self._acquire(lambda: rejected == self._access)

    def _acquire(self, needed):
        """The current access token after the refresh in flight, or after a new one when `needed()`
        (called under the lock) says so. Deciding and starting the flight happen under ONE lock: a
        caller that saw a flight must never find it gone a moment later and start a second refresh
        (the conformance harness caught exactly that race: two refreshes for one burst of 401s)."""
        with self._lock:
            if self._dead:
                raise self._dead
            flight = self._flight
            leader = flight is None
            if leader:
                if not needed():
                    return self._access
                flight = self._flight = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            with self._lock:
                return self._access
        try:
            self._exchange()
        except Exception as err:  # every waiter fails with the leader's error
            flight.error = err
            raise
        finally:
            with self._lock:
                self._flight = None
            flight.done.set()  # only now may waiters proceed: the callbacks have run
        with self._lock:
            return self._access

    def _exchange(self):
        with self._lock:
            if self._dead:
                raise self._dead
            presented = self._refresh
        form = {"grant_type": "refresh_token", "refresh_token": presented, "client_id": self._client_id}
        if self._scope:
            form["scope"] = self._scope
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self._client_secret is not None:
            pair = "%s:%s" % (urllib.parse.quote(self._client_id, safe=""), urllib.parse.quote(self._client_secret, safe=""))
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")
        # A transport failure raises EksoNetworkException here: transient, the session is kept.
        res = http_request("POST", self._token_endpoint, headers, urllib.parse.urlencode(form).encode("ascii"), self._timeout_s)
        body = res.body if isinstance(res.body, dict) else {}
        if not 200 <= res.status < 300:
            if res.status in (400, 401) and isinstance(body.get("error"), str):
                err = EksoAuthException("Expired", "refresh refused (%s %s); sign in again" % (res.status, body["error"]), res.status)
                with self._lock:
                    self._dead = err  # no refresh is ever attempted again with this token
                raise err
            if res.status == 429:
                retry = parse_retry_after_ms(res.headers.get("retry-after"), self._now())
                raise EksoRateLimitException(DEFAULT_RETRY_AFTER_MS if retry is None else retry, "token endpoint rate limited the refresh")
            raise EksoApiException(res.status, res.body, "token endpoint answered %s; the session is kept" % res.status)
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise EksoApiException(res.status, res.body, "token endpoint answered without an access_token")
        refresh = body.get("refresh_token") or presented
        expires_in = body.get("expires_in") if isinstance(body.get("expires_in"), (int, float)) else DEFAULT_EXPIRES_IN_S
        with self._lock:
            self._access = access
            self._refresh = refresh
            self._expires_at_ms = int(self._now() + expires_in * 1000)
            expires_at_ms = self._expires_at_ms
        for callback in list(self._listeners):
            try:
                callback(access, refresh, expires_at_ms)
            except Exception:
                pass  # the server has rotated already: a failing callback cannot undo it


# --------------------------------------------------------------------------------------------
# Client pipeline
# --------------------------------------------------------------------------------------------

def resolve_base_url(tenant, base_url=None):
    if base_url:
        return base_url.rstrip("/")
    if not re.match(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$", tenant or ""):
        raise ValueError("invalid tenant %r" % (tenant,))
    return "https://%s.ekso.app" % tenant


class EksoClient(object):
    def __init__(self, tenant, auth, base_url=None, timeout_s=None, now=None):
        self.base_url = resolve_base_url(tenant, base_url)
        self._auth = auth
        self._timeout_s = timeout_s
        self._now = now or (lambda: time.time() * 1000)

    def request(self, method, path, body=None):
        """Returns (status, body) for a 2xx; raises an EksoException subclass otherwise."""
        url = self.base_url + (path if path.startswith("/") else "/" + path)
        method = method.upper()
        token = self._auth.get_credential()
        res = self._send(method, url, body, token)
        if res.status == 401:
            fresh = self._auth.renew_after_unauthorized(token)
            if fresh is None:
                raise self._auth_error(res)
            res = self._send(method, url, body, fresh)  # exactly one retry
            if res.status == 401:
                raise self._auth_error(res)
        if 200 <= res.status < 300:
            return res.status, res.body
        raise self._map_error(res)

    def _send(self, method, url, body, token):
        headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
        data = None
        if body is not None and method not in ("GET", "HEAD"):
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        return http_request(method, url, headers, data, self._timeout_s)

    def _auth_error(self, res):
        said = reason_from_challenge(res.headers.get("www-authenticate"))
        if self._auth.kind == "apiKey":
            reason = "Revoked" if said == "Revoked" else "Invalid"
        else:
            reason = said or "Invalid"
        return EksoAuthException(reason, "credentials rejected (401, %s)" % reason, res.status)

    def _map_error(self, res):
        body = res.body
        if res.status == 429:
            retry = parse_retry_after_ms(res.headers.get("retry-after"), self._now())
            return EksoRateLimitException(DEFAULT_RETRY_AFTER_MS if retry is None else retry, "rate limited")
        if res.status in (400, 422) and isinstance(body, dict):
            fields = body.get("fields") if isinstance(body.get("fields"), list) else []
            if body.get("kind") == "Validation" or fields:
                errors = {}
                for entry in fields:
                    if isinstance(entry, dict) and isinstance(entry.get("field"), str):
                        code = entry.get("code") or entry.get("message")
                        if isinstance(code, str):
                            errors.setdefault(entry["field"], []).append(code)
                return EksoValidationException(errors, str(body.get("message") or "validation failed"), res.status)
        message = body.get("message") if isinstance(body, dict) and isinstance(body.get("message"), str) else "the API answered %s" % res.status
        return EksoApiException(res.status, body, message)
