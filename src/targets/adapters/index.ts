/** The harness side of the SDK adapter protocol (CONTRACT §5): stdio and in-process transports. */
export { AdapterCrashedError, AdapterLoadError, AdapterProtocolError, AdapterRpcError, AdapterTimeoutError, oneLine } from './errors.js';
export { StdioAdapter, DEFAULT_REQUEST_TIMEOUT_MS, DEFAULT_START_TIMEOUT_MS, type StdioAdapterOptions } from './stdio.js';
export { loadInProcessAdapter, wrapInProcessAdapter, type LoadedInProcessAdapter } from './in-process.js';
export { validateResult, describeIssues } from './validate.js';
