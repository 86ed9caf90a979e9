// What every third-party client adapter shares: the adapter protocol (CONTRACT §5.4) around a
// library's own client, and the mapping of what that client hands back to the protocol's
// OUTCOME. The library does the work — when to refresh, how, how many times, what to retry —
// and this file only translates:
//
// * an HTTP answer the library returns → `response` (2xx) or the documented Ekso exception kind
//   for its status (401 `EksoAuthException`, 429 `EksoRateLimitException`, 400 with field errors
//   `EksoValidationException`, other `EksoApiException`);
// * an error the library throws → what the token endpoint last answered that client, as the
//   glue's own fetch saw it (an OAuth refusal is `EksoAuthException` `Expired`, a 5xx
//   `EksoApiException`), else `EksoNetworkException` (transport failure or timeout).
//
// Choice: these libraries have no API-key credential, no token store and no injectable clock, so
// the capabilities say so (apiKey, tokenStore and clock false; the checks needing them are
// skipped) and `createAdapter()` takes no options: the harness talks to them over loopback HTTP
// in real time.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const RPC_INVALID_PARAMS = -32602;

export function rpcError(code, message) {
  return Object.assign(new Error(message), { code });
}

/**
 * A fetch for a library's token requests that remembers the last answer of the token endpoint
 * (status and OAuth error code) and bounds each request by `timeoutMs`.
 */
export function observingFetch(timeoutMs) {
  const seen = { last: undefined };
  const fetchImpl = async (input, init = {}) => {
    const signal = timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
    try {
      const response = await fetch(input, signal ? { ...init, signal } : init);
      let error;
      if (!response.ok) {
        try {
          error = (await response.clone().json())?.error;
        } catch {
          error = undefined;
        }
      }
      seen.last = { status: response.status, error };
      return response;
    } catch (failure) {
      seen.last = { transport: String(failure?.message ?? failure) };
      throw failure;
    }
  };
  return { fetch: fetchImpl, seen };
}

/** `timeoutMs` as a signal for a library call that takes one. */
export function timeoutSignal(timeoutMs) {
  return timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined;
}

function retryAfterMs(value) {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** An HTTP answer (status, header lookup, body text) as an OUTCOME. */
export function outcomeOfResponse(status, header, text) {
  let body;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (status >= 200 && status < 300) return body === undefined ? { outcome: 'response', status } : { outcome: 'response', status, body };
  if (status === 401) return { outcome: 'error', error: { type: 'EksoAuthException', reason: 'Invalid', statusCode: 401 } };
  if (status === 429) {
    const after = retryAfterMs(header('retry-after'));
    return { outcome: 'error', error: { type: 'EksoRateLimitException', statusCode: 429, ...(after !== undefined ? { retryAfterMs: after } : {}) } };
  }
  if (status === 400 && body && Array.isArray(body.fields)) {
    const fieldErrors = {};
    for (const f of body.fields) if (f && typeof f.field === 'string') (fieldErrors[f.field] ??= []).push(String(f.code ?? f.message ?? ''));
    return { outcome: 'error', error: { type: 'EksoValidationException', statusCode: 400, fieldErrors } };
  }
  return { outcome: 'error', error: { type: 'EksoApiException', statusCode: status } };
}

/** An error the library threw, read with what its token endpoint last answered. */
export function outcomeOfError(error, tokenAnswer) {
  const message = String(error?.message ?? error).slice(0, 300);
  if (tokenAnswer && tokenAnswer.status !== undefined && tokenAnswer.status >= 400) {
    if (tokenAnswer.status === 400 || tokenAnswer.status === 401) {
      return { outcome: 'error', error: { type: 'EksoAuthException', reason: 'Expired', statusCode: tokenAnswer.status, message } };
    }
    return { outcome: 'error', error: { type: 'EksoApiException', statusCode: tokenAnswer.status, message } };
  }
  return { outcome: 'error', error: { type: 'EksoNetworkException', message } };
}

/**
 * The adapter object. `library` = { name, version, refreshMarginMs?, makeClient(params, notify) }
 * where `makeClient` returns `{ call({method, url, body}) → OUTCOME }` built on the library, and
 * `notify(tokens)` raises `tokensRefreshed` for that client.
 */
export function protocolAdapter(library) {
  const clients = new Map();
  const used = new Set();
  const listeners = [];
  const capabilities = { apiKey: false, refreshable: true, clock: false, tokenStore: false };
  if (library.refreshMarginMs !== undefined) capabilities.refreshMarginMs = library.refreshMarginMs;
  return {
    async initialize() {
      return { name: library.name, version: library.version, protocolVersion: 1, capabilities };
    },
    async createClient(params) {
      if (used.has(params.client)) throw rpcError(RPC_INVALID_PARAMS, `client id "${params.client}" is already in use`);
      if (params.auth?.type !== 'refreshable') throw rpcError(-32601, `${library.name} has no ${params.auth?.type} credential`);
      used.add(params.client);
      const notify = (tokens) => {
        for (const listener of listeners) listener({ client: params.client, ...tokens });
      };
      clients.set(params.client, { base: (params.baseUrl ?? `https://${params.tenant}.ekso.app`).replace(/\/+$/, ''), client: await library.makeClient(params, notify) });
      return {};
    },
    async resolveBaseUrl() {
      throw rpcError(-32601, `${library.name} has no notion of an Ekso tenant`);
    },
    async call(params) {
      const entry = clients.get(params.client);
      if (!entry) throw rpcError(RPC_INVALID_PARAMS, `unknown client "${params.client}"`);
      return entry.client.call({ method: params.method, url: entry.base + params.path, body: params.body });
    },
    async disposeClient(params) {
      clients.get(params.client)?.client.dispose?.();
      clients.delete(params.client);
      return {};
    },
    async shutdown() {
      for (const entry of clients.values()) entry.client.dispose?.();
      clients.clear();
      return {};
    },
    onTokensRefreshed(listener) {
      listeners.push(listener);
    },
  };
}

/** The installed version of a package (read from its package.json, whatever its `exports`). */
export function packageVersion(name) {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) {
    const up = dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}
