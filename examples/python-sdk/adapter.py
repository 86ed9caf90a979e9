#!/usr/bin/env python3
"""Ekso conformance adapter for the example Python SDK (protocol version 1).

The harness starts this script, writes JSON-RPC 2.0 requests on its stdin (one per line) and
reads responses and notifications from its stdout. Everything else goes to stderr.

    npx ekso-conformance sdk --adapter "python3 examples/python-sdk/adapter.py"
    npx ekso-conformance sdk --adapter "python3 examples/python-sdk/adapter.py --no-clock"

`--no-clock` leaves out the `clock` capability: the SDK runs on the platform clock, as most SDKs do,
and the harness lets real time pass.

Requests run on their own threads (the harness may send several `call`s at once and expects them
to proceed concurrently); one lock keeps each output line whole.
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ekso_sdk import (  # noqa: E402
    DEFAULT_REFRESH_MARGIN_MS,
    ApiKeyAuth,
    EksoAuthException,
    EksoClient,
    EksoException,
    EksoRateLimitException,
    EksoValidationException,
    RefreshableBearerAuth,
    iso_from_ms,
    resolve_base_url,
)

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL = -32603

_out_lock = threading.Lock()
_clients = {}
_clients_lock = threading.Lock()
# The adapter's clock (contract section 5.5): real time plus every advanceClock so far.
_offset_ms = [0]
# --no-clock: no `clock` capability, so no advanceClock either (the SDK keeps to real time).
CLOCK = "--no-clock" not in sys.argv[1:]


def now_ms():
    return time.time() * 1000 + _offset_ms[0]


def log(message):
    sys.stderr.write("[python-adapter] %s\n" % message)
    sys.stderr.flush()


def write(message):
    line = json.dumps(message)
    with _out_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class RpcError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def require(params, name, kind=str, optional=False):
    value = params.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise RpcError(INVALID_PARAMS, "param %r must be a %s" % (name, kind.__name__ if isinstance(kind, type) else "number"))
    return value


def initialize(params):
    return {
        "name": "ekso-python-example",
        "version": "0.1.0",
        "protocolVersion": 1,
        "capabilities": {
            "apiKey": True,
            "refreshable": True,
            "clock": CLOCK,
            "tokenStore": False,
            "refreshMarginMs": DEFAULT_REFRESH_MARGIN_MS,
        },
    }


def create_client(params):
    client_id = require(params, "client")
    tenant = require(params, "tenant")
    base_url = require(params, "baseUrl", optional=True)
    timeout_ms = require(params, "timeoutMs", (int, float), optional=True)
    auth_params = params.get("auth")
    if not isinstance(auth_params, dict):
        raise RpcError(INVALID_PARAMS, "param 'auth' must be an object")
    with _clients_lock:
        if client_id in _clients:
            raise RpcError(INVALID_PARAMS, "client id %r already in use" % client_id)
    timeout_s = timeout_ms / 1000.0 if timeout_ms else None
    kind = auth_params.get("type")
    try:
        if kind == "apiKey":
            auth = ApiKeyAuth(require(auth_params, "key"))
        elif kind == "refreshable":
            auth = RefreshableBearerAuth(
                access_token=require(auth_params, "accessToken"),
                refresh_token=require(auth_params, "refreshToken"),
                token_endpoint=require(auth_params, "tokenEndpoint"),
                client_id=require(auth_params, "clientId"),
                expires_at=require(auth_params, "expiresAt"),
                client_secret=auth_params.get("clientSecret"),
                scope=auth_params.get("scope"),
                timeout_s=timeout_s,
                now=now_ms,
            )

            def on_refreshed(access, refresh, expires_at_ms, _client=client_id):
                # Written before any call using the new token may answer (the SDK runs callbacks
                # before waiters proceed), so the notification precedes that call's response.
                write({"jsonrpc": "2.0", "method": "tokensRefreshed", "params": {
                    "client": _client, "accessToken": access, "refreshToken": refresh, "expiresAt": iso_from_ms(expires_at_ms)}})

            auth.on_tokens_refreshed(on_refreshed)
        elif kind == "stored":
            raise RpcError(METHOD_NOT_FOUND, "this adapter has no token store")
        else:
            raise RpcError(INVALID_PARAMS, "unknown auth type %r" % (kind,))
        client = EksoClient(tenant, auth, base_url=base_url, timeout_s=timeout_s, now=now_ms)
    except ValueError as err:
        raise RpcError(INVALID_PARAMS, str(err))
    with _clients_lock:
        _clients[client_id] = client
    return {}


def resolve(params):
    try:
        return {"baseUrl": resolve_base_url(require(params, "tenant"), require(params, "baseUrl", optional=True))}
    except ValueError as err:
        raise RpcError(INVALID_PARAMS, str(err))


def call(params):
    with _clients_lock:
        client = _clients.get(require(params, "client"))
    if client is None:
        raise RpcError(INVALID_PARAMS, "unknown client %r" % params.get("client"))
    try:
        status, body = client.request(require(params, "method"), require(params, "path"), params.get("body"))
    except EksoException as err:
        error = {"type": err.type_name, "message": err.message}
        if err.status_code is not None:
            error["statusCode"] = err.status_code
        if isinstance(err, EksoAuthException):
            error["reason"] = err.reason
        if isinstance(err, EksoRateLimitException):
            error["retryAfterMs"] = err.retry_after_ms
        if isinstance(err, EksoValidationException):
            error["fieldErrors"] = err.field_errors
        return {"outcome": "error", "error": error}
    result = {"outcome": "response", "status": status}
    if body is not None:
        result["body"] = body
    return result


def advance_clock(params):
    ms = require(params, "ms", (int, float))
    if ms < 0:
        raise RpcError(INVALID_PARAMS, "ms must be non-negative")
    _offset_ms[0] += ms
    return {}


def dispose(params):
    with _clients_lock:
        _clients.pop(require(params, "client"), None)
    return {}


HANDLERS = {
    "initialize": initialize,
    "createClient": create_client,
    "resolveBaseUrl": resolve,
    "call": call,
    "advanceClock": advance_clock,
    "disposeClient": dispose,
}


if not CLOCK:
    # A method whose capability is not declared is "method not found" (-32601).
    del HANDLERS["advanceClock"]


def handle(request):
    req_id = request.get("id")
    method = request.get("method")
    params = request.get("params") or {}
    try:
        if not isinstance(params, dict):
            raise RpcError(INVALID_PARAMS, "params must be an object")
        handler = HANDLERS.get(method)
        if handler is None:
            # storeSave / storeLoad: no tokenStore capability, so they are "method not found".
            raise RpcError(METHOD_NOT_FOUND, "unknown method %r" % (method,))
        result = handler(params)
        write({"jsonrpc": "2.0", "id": req_id, "result": result})
    except RpcError as err:
        write({"jsonrpc": "2.0", "id": req_id, "error": {"code": err.code, "message": err.message}})
    except Exception as err:  # an adapter bug: report it, keep serving
        log("%s failed: %r" % (method, err))
        write({"jsonrpc": "2.0", "id": req_id, "error": {"code": INTERNAL, "message": "%s failed: %s" % (method, err)}})


def main():
    workers = []
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            request = json.loads(line)
        except ValueError:
            write({"jsonrpc": "2.0", "id": None, "error": {"code": -32700, "message": "parse error"}})
            continue
        if request.get("method") == "shutdown":
            write({"jsonrpc": "2.0", "id": request.get("id"), "result": {}})
            os._exit(0)  # in-flight calls are abandoned, as the protocol allows
        worker = threading.Thread(target=handle, args=(request,), daemon=True)
        worker.start()
        workers.append(worker)
        workers[:] = [w for w in workers if w.is_alive()]
    # End of stdin means shutdown. Choice: requests already read get a few seconds to answer (so that
    # piping requests in by hand works); a hanging one is abandoned, as the protocol allows.
    deadline = time.time() + 5
    for worker in workers:
        worker.join(max(0.0, deadline - time.time()))
    os._exit(0)


if __name__ == "__main__":
    main()
