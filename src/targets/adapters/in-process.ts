/**
 * In-process adapters (CONTRACT §5.4): `--adapter PATH` to a `.js`, `.mjs`, `.cjs` or `.ts`
 * module exporting `createAdapter()`.
 *
 * The loaded adapter is wrapped so that the checks see the same thing as over stdio: results
 * validated against the protocol's schemas (`AdapterProtocolError` otherwise), capability-gated
 * methods rejecting with `AdapterRpcError(-32601)` when the capability (or the method) is missing,
 * and invalid `tokensRefreshed` events recorded as faults instead of reaching the checks.
 */
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AdapterRpcError,
  CAPABILITY_OF,
  RPC_ERRORS,
  TokensRefreshedParams,
  type AdapterMethod,
  type Capabilities,
  type InProcessAdapterOptions,
  type SdkAdapter,
} from '../../spec/adapter-protocol.js';
import { AdapterLoadError, AdapterProtocolError, oneLine } from './errors.js';
import { describeIssues, validateResult } from './validate.js';

export interface LoadedInProcessAdapter {
  adapter: SdkAdapter;
  /**
   * Whether the module takes the harness's `{fetch, now}`. Choice: true when `createAdapter`
   * declares at least one parameter (`createAdapter.length >= 1`) or the module exports
   * `acceptsInjection = true` — the explicit export exists because a parameter with a default
   * value (`createAdapter(options = {})`) or a rest parameter has `length` 0. When false,
   * `createAdapter()` is called without arguments, so the adapter never half-uses the harness's
   * clock or transport.
   */
  acceptsInjection: boolean;
  /** Protocol faults seen so far (invalid results or events). */
  protocolFaults(): string[];
}

const REQUIRED_METHODS = ['initialize', 'createClient', 'resolveBaseUrl', 'call', 'disposeClient', 'shutdown', 'onTokensRefreshed'] as const;
const SUPPORTED_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);

export async function loadInProcessAdapter(modulePath: string, options: InProcessAdapterOptions): Promise<LoadedInProcessAdapter> {
  const absolute = resolve(modulePath);
  const ext = extname(absolute).toLowerCase();
  if (!SUPPORTED_EXTENSIONS.has(ext)) throw new AdapterLoadError(`adapter module ${modulePath}: unsupported extension "${ext}" (expected .js, .mjs, .cjs or .ts)`);
  try {
    const info = await stat(absolute);
    if (!info.isFile()) throw new AdapterLoadError(`adapter module ${modulePath} is not a file`);
  } catch (error) {
    if (error instanceof AdapterLoadError) throw error;
    throw new AdapterLoadError(`adapter module ${modulePath} not found`);
  }

  let mod: Record<string, unknown>;
  try {
    const url = pathToFileURL(absolute).href;
    if (ext === '.ts' || ext === '.mts' || ext === '.cts') {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    } else {
      mod = (await import(url)) as Record<string, unknown>;
    }
  } catch (error) {
    throw new AdapterLoadError(`adapter module ${modulePath} failed to load: ${firstLine(error)}`);
  }

  // CommonJS modules (and tsx's CJS interop) may put the exports under `default`.
  const exportsOf = (m: Record<string, unknown>): Record<string, unknown> | undefined => (typeof m['createAdapter'] === 'function' ? m : undefined);
  const inner = mod['default'] && typeof mod['default'] === 'object' ? (mod['default'] as Record<string, unknown>) : undefined;
  const exported = exportsOf(mod) ?? (inner ? exportsOf(inner) : undefined);
  if (!exported) throw new AdapterLoadError(`adapter module ${modulePath} does not export a createAdapter() function`);
  const createAdapter = exported['createAdapter'] as (options?: InProcessAdapterOptions) => unknown;
  const acceptsInjection = createAdapter.length >= 1 || exported['acceptsInjection'] === true || mod['acceptsInjection'] === true;
  return adoptInProcessAdapter({ createAdapter, acceptsInjection }, modulePath, options);
}

/** An in-process adapter handed over as an object (the library API): what a module would export. */
export interface InProcessAdapterModule {
  createAdapter: (options?: InProcessAdapterOptions) => unknown;
  /** See `LoadedInProcessAdapter.acceptsInjection`; default: `createAdapter.length >= 1`. */
  acceptsInjection?: boolean;
}

/** Creates the adapter of a loaded module (or of an object given in-process) and wraps it. */
export async function adoptInProcessAdapter(module: InProcessAdapterModule, label: string, options: InProcessAdapterOptions): Promise<LoadedInProcessAdapter> {
  const acceptsInjection = module.acceptsInjection ?? module.createAdapter.length >= 1;
  let raw: unknown;
  try {
    raw = await (acceptsInjection ? module.createAdapter(options) : module.createAdapter());
  } catch (error) {
    throw new AdapterLoadError(`createAdapter() of ${label} threw: ${firstLine(error)}`);
  }
  if (!raw || typeof raw !== 'object') throw new AdapterLoadError(`createAdapter() of ${label} returned ${raw === null ? 'null' : typeof raw}, not an adapter object`);
  const missing = REQUIRED_METHODS.filter((m) => typeof (raw as Record<string, unknown>)[m] !== 'function');
  if (missing.length) throw new AdapterLoadError(`the adapter of ${label} lacks ${missing.join(', ')}`);

  const faults: string[] = [];
  return { adapter: wrapInProcessAdapter(raw as SdkAdapter, faults), acceptsInjection, protocolFaults: () => [...faults] };
}

/** The validating, capability-gating view of an in-process adapter (see the module comment). */
export function wrapInProcessAdapter(inner: SdkAdapter, faults: string[] = []): SdkAdapter {
  let capabilities: Capabilities | null = null;
  const record = (fault: string): void => {
    if (faults.length < 100) faults.push(oneLine(fault));
  };

  async function invoke<T>(method: AdapterMethod, params: unknown): Promise<T> {
    const fn = (inner as unknown as Record<string, unknown>)[method];
    const capability = CAPABILITY_OF[method];
    if (typeof fn !== 'function' || (capability && capabilities && !capabilities[capability])) {
      throw new AdapterRpcError(RPC_ERRORS.methodNotFound, `adapter lacks the ${capability ?? method} capability needed by "${method}"`);
    }
    let raw: unknown;
    try {
      raw = await (fn as (p: unknown) => unknown).call(inner, params);
    } catch (error) {
      throw asAdapterError(method, error, record);
    }
    try {
      return validateResult<T>(method, raw);
    } catch (error) {
      if (error instanceof AdapterProtocolError) record(error.message);
      throw error;
    }
  }

  return {
    async initialize(params) {
      const result = await invoke<Awaited<ReturnType<SdkAdapter['initialize']>>>('initialize', params);
      capabilities = result.capabilities;
      return result;
    },
    createClient: (params) => invoke('createClient', params),
    resolveBaseUrl: (params) => invoke('resolveBaseUrl', params),
    call: (params) => invoke('call', params),
    advanceClock: (params) => invoke('advanceClock', params),
    storeSave: (params) => invoke('storeSave', params),
    storeLoad: (params) => invoke('storeLoad', params),
    disposeClient: (params) => invoke('disposeClient', params),
    shutdown: (params) => invoke('shutdown', params ?? {}),
    onTokensRefreshed(listener) {
      inner.onTokensRefreshed((event) => {
        const parsed = TokensRefreshedParams.safeParse(event);
        if (!parsed.success) {
          record(`invalid tokensRefreshed event: ${describeIssues(parsed.error)}`);
          return;
        }
        listener(parsed.data);
      });
    },
  };
}

/**
 * What an in-process adapter throws. An `AdapterRpcError` (or any error with a numeric JSON-RPC
 * `code`, since a third-party module cannot import our class) is the adapter's protocol answer;
 * anything else is an adapter bug, reported as `AdapterProtocolError` like an unparseable answer
 * over stdio. (SDK failures are outcomes, never throws.)
 */
function asAdapterError(method: string, error: unknown, record: (fault: string) => void): Error {
  if (error instanceof AdapterRpcError) return error;
  if (error && typeof error === 'object' && Number.isInteger((error as { code?: unknown }).code) && typeof (error as { message?: unknown }).message === 'string') {
    const e = error as { code: number; message: string; data?: unknown };
    return new AdapterRpcError(e.code, oneLine(e.message), e.data);
  }
  const fault = `"${method}" threw ${firstLine(error)}`;
  record(fault);
  return new AdapterProtocolError(fault);
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return oneLine(text.split('\n')[0] ?? text);
}
