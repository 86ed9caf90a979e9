import { it } from 'vitest';
import { runBackend } from '../support/harness.js';
it('timing', async () => {
  const t0 = Date.now();
  const { report } = await runBackend({ seed: 7 });
  console.log('total', Date.now() - t0);
  for (const c of report.checks) console.log(c.id, c.status, c.runs, c.durationMs);
}, 120000);
