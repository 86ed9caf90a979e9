/**
 * Serves any `SdkAdapter` over stdin/stdout (CONTRACT §5.1): JSON-RPC 2.0, one message per line.
 * Used by `ekso-conformance adapter` for the reference SDK, and by the mutants, which are served
 * exactly like the reference so that the harness sees them through the same transport.
 *
 * - Requests run concurrently and are answered as they finish, in any order.
 * - `tokensRefreshed` notifications are written the moment the adapter raises them; the adapter
 *   raises them before the call that used the new token returns, so they precede its response.
 * - Protocol faults are JSON-RPC errors: parse -32700, invalid request -32600, unknown method
 *   -32601, bad params -32602, a method whose capability is lacking -32601, anything the adapter
 *   throws that is not an `AdapterRpcError` -32603.
 * - `shutdown` is answered, then the promise resolves 0; so does the end of stdin.
 * Diagnostics go to stderr only; stdout carries protocol messages and nothing else.
 */
import { createInterface } from 'node:readline';
import {
  AdapterRpcError,
  CAPABILITY_OF,
  JsonRpcToAdapter,
  REQUEST_PARAMS,
  RPC_ERRORS,
  TOKENS_REFRESHED,
  isAdapterMethod,
  type AdapterMethod,
  type Capabilities,
  type SdkAdapter,
} from '../../spec/adapter-protocol.js';

export interface StdioStreams {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

type RpcId = string | number | null;

const END_OF_INPUT_GRACE_MS = 5000;

export function serveAdapterOverStdio(adapter: SdkAdapter, streams: StdioStreams): Promise<number> {
  const { stdin, stdout, stderr } = streams;
  const log = (line: string): void => void stderr.write(`[adapter] ${line}\n`);
  let capabilities: Capabilities | null = null;
  let finished = false;

  const write = (message: object): Promise<void> =>
    new Promise((resolveWrite) => {
      let line: string;
      try {
        line = JSON.stringify(message);
      } catch (error) {
        // e.g. a response body with a BigInt or a cycle: answer with an error instead of nothing.
        const id = (message as { id?: RpcId }).id ?? null;
        line = JSON.stringify({ jsonrpc: '2.0', id, error: { code: RPC_ERRORS.internal, message: `result not serialisable: ${String(error)}` } });
      }
      stdout.write(`${line}\n`, () => resolveWrite());
    });

  adapter.onTokensRefreshed((event) => {
    if (!finished) void write({ jsonrpc: '2.0', method: TOKENS_REFRESHED, params: event });
  });

  const respond = (id: RpcId, result: unknown): Promise<void> => write({ jsonrpc: '2.0', id, result: result ?? {} });
  const respondError = (id: RpcId, code: number, message: string, data?: unknown): Promise<void> =>
    write({ jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } });

  return new Promise<number>((resolveServe) => {
    const lines = createInterface({ input: stdin, crlfDelay: Infinity });

    const finish = async (): Promise<void> => {
      if (finished) return;
      finished = true;
      lines.close();
      resolveServe(0);
    };

    const dispatch = async (method: AdapterMethod, params: unknown): Promise<unknown> => {
      const capability = CAPABILITY_OF[method];
      const fn = (adapter as unknown as Record<string, unknown>)[method];
      if (typeof fn !== 'function' || (capability && capabilities && !capabilities[capability])) {
        throw new AdapterRpcError(RPC_ERRORS.methodNotFound, `method "${method}" needs the ${capability ?? 'missing'} capability, which this adapter lacks`);
      }
      const parsed = REQUEST_PARAMS[method].safeParse(params ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new AdapterRpcError(RPC_ERRORS.invalidParams, `${method}: ${issue ? `${issue.path.join('.') || 'params'}: ${issue.message}` : 'invalid params'}`);
      }
      // The original params, not zod's copy: `loose` keeps extra fields either way, and the
      // adapter gets exactly what the harness sent.
      const result = await (fn as (p: unknown) => Promise<unknown>).call(adapter, params ?? {});
      if (method === 'initialize') {
        const caps = (result as { capabilities?: Capabilities } | undefined)?.capabilities;
        if (caps && typeof caps === 'object') capabilities = caps;
      }
      return result;
    };

    const handle = async (raw: string): Promise<void> => {
      let message: unknown;
      try {
        message = JSON.parse(raw);
      } catch {
        await respondError(null, RPC_ERRORS.parse, 'parse error: not JSON');
        return;
      }
      const request = JsonRpcToAdapter.safeParse(message);
      if (!request.success) {
        const id = message && typeof message === 'object' && 'id' in message ? ((message as { id: unknown }).id as RpcId) : null;
        await respondError(typeof id === 'string' || typeof id === 'number' ? id : null, RPC_ERRORS.invalidRequest, 'invalid JSON-RPC 2.0 request');
        return;
      }
      const { id, method, params } = request.data;
      const isNotification = id === undefined;
      if (!isAdapterMethod(method)) {
        if (!isNotification) await respondError(id, RPC_ERRORS.methodNotFound, `unknown method "${method}"`);
        return;
      }
      if (params !== undefined && (params === null || typeof params !== 'object' || Array.isArray(params))) {
        if (!isNotification) await respondError(id, RPC_ERRORS.invalidParams, `${method}: params must be an object`);
        return;
      }
      try {
        const result = await dispatch(method, params);
        if (!isNotification && !(finished && method !== 'shutdown')) await respond(id, result);
      } catch (error) {
        if (isNotification) {
          log(`notification ${method} failed: ${error instanceof Error ? error.message : String(error)}`);
        } else if (error instanceof AdapterRpcError) {
          await respondError(id, error.code, error.message, error.data);
        } else {
          log(`${method} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
          await respondError(id, RPC_ERRORS.internal, `${method} failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
      if (method === 'shutdown') await finish();
    };

    const inFlight = new Set<Promise<void>>();
    lines.on('line', (line) => {
      if (finished || line.trim() === '') return;
      const task = handle(line).catch((error: unknown) => log(`internal error: ${String(error)}`));
      inFlight.add(task);
      void task.finally(() => inFlight.delete(task));
    });
    lines.on('close', () => {
      if (finished) return;
      // End of stdin means shutdown (§5.2 Lifecycle). Choice: requests already read get up to
      // END_OF_INPUT_GRACE_MS to answer (so `printf … | adapter` works); a hanging one is
      // abandoned, as the protocol allows.
      const grace = new Promise<void>((r) => setTimeout(r, END_OF_INPUT_GRACE_MS).unref());
      void Promise.race([Promise.allSettled([...inFlight]), grace])
        .then(() => adapter.shutdown({}))
        .catch((error: unknown) => log(`shutdown after end of input failed: ${String(error)}`))
        .then(finish);
    });
  });
}

/**
 * Runs `adapter` as this process's stdio adapter and exits with the served code. `process.exit`
 * rather than waiting for the event loop to drain: calls abandoned at shutdown (a hanging server)
 * must not keep the process alive (§5.2: "in-flight calls may be abandoned").
 */
export async function runStdioAdapterProcess(adapter: SdkAdapter): Promise<never> {
  const code = await serveAdapterOverStdio(adapter, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });
  process.exit(code);
}
