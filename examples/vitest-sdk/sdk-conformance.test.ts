/**
 * An SDK author's conformance test: the harness runs every SDK and token-store check against the
 * adapter in this process and the test fails when any requirement does. Copy this folder into
 * your project (`npm install --save-dev ekso-conformance vitest`) and point my-sdk-adapter.ts at
 * your SDK.
 */
import { describe, expect, it } from 'vitest';
import { runSdkConformance, type RequirementVerdict } from 'ekso-conformance';
import { createAdapter } from './my-sdk-adapter.js';

const line = (r: RequirementVerdict) => `${r.id} ${r.status}${r.reason ? `: ${r.reason}` : ''}`;

describe('my SDK against the Ekso auth requirements', () => {
  it('fails no requirement, and leaves none undecided', async () => {
    // A fixed seed: the same run every time (change it, or drop it for a random one, to explore more).
    const report = await runSdkConformance({ adapter: { createAdapter }, adapterName: 'my SDK', seed: 1 });
    const sdk = report.requirements.filter((r) => r.side === 'sdk');
    expect(sdk.filter((r) => r.status === 'failed').map(line)).toEqual([]);
    expect(sdk.filter((r) => r.status === 'inconclusive').map(line)).toEqual([]);
    expect(sdk.some((r) => r.status === 'passed')).toBe(true);
    expect(report.exitCode).toBe(0);
  }, 120_000);
});
