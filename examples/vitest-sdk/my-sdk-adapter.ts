/**
 * The in-process adapter of the SDK under test (CONTRACT §5.4): `createAdapter({ fetch, now })`
 * returns an object with `initialize`, `createClient`, `resolveBaseUrl`, `call`, `disposeClient`,
 * `shutdown` and `onTokensRefreshed` (plus `advanceClock`, `storeSave`, `storeLoad` for the
 * capabilities it declares) — see the `SdkAdapter` type exported by the package.
 *
 * Here it is the reference TypeScript SDK's adapter, so that this example runs as it stands.
 * In your repository, write this file over your SDK: create its clients from `createClient`'s
 * auth config, send every request through the `fetch` you were given (that is how the harness
 * sees the traffic and decides the interleavings), and read time from `now`.
 */
export { createReferenceSdkAdapter as createAdapter } from 'ekso-conformance';
