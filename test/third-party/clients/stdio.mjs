#!/usr/bin/env node
// Serves one of the third-party client adapters over stdio (CONTRACT §5.1) with the `clock`
// capability: usage `node stdio.mjs <adapter module>`.
//
// These libraries read the time from `Date` (expiry checks, `expires_at` arithmetic) and take no
// clock of their own, so the adapter process's `Date` is its SDK clock (§5.5): it starts at real
// time and `advanceClock` moves it forward. This is done here, in a process of its own, never in
// the harness's process. Durations (timeouts, timers) stay real.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const RealDate = Date;
let offsetMs = 0;
class AdapterClockDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = AdapterClockDate;

const modulePath = process.argv[2];
if (!modulePath) {
  process.stderr.write('usage: node stdio.mjs <adapter module>\n');
  process.exit(2);
}
const { createAdapter } = await import(pathToFileURL(resolve(modulePath)).href);
const { runStdioAdapterProcess } = await import(new URL('../../../dist/src/reference/sdk/stdio-server.js', import.meta.url).href);

const inner = createAdapter();
const adapter = {
  ...inner,
  async initialize(params) {
    const result = await inner.initialize(params);
    return { ...result, capabilities: { ...result.capabilities, clock: true } };
  },
  async advanceClock({ ms }) {
    offsetMs += ms;
    return {};
  },
};
await runStdioAdapterProcess(adapter);
