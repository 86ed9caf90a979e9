/**
 * `replay <report.json> [--check ID]`: re-runs the failed checks of a report with their seed,
 * path and replayPath against the same target (secrets come from the environment again). Against
 * an in-process target the replay is exact; against a live one it says whether the failure
 * reproduced.
 */
import { dirname, join } from 'node:path';
import { Redactor } from '../engine/redact.js';
import { parsePolicy, STRICT } from '../model/policy.js';
import type { Report } from '../report/schema.js';
import { readReport, REPORTERS, type ReporterName } from '../report/write.js';
import { runBackendCommand } from './backend-command.js';
import { ConsoleOutput } from './console.js';
import type { Io } from './main.js';
import { checkPatterns } from './options.js';

export async function runReplay(file: string, raw: Record<string, unknown>, io: Io): Promise<number> {
  const color = ConsoleOutput.colorWanted(raw.color as boolean | undefined);
  const output = new ConsoleOutput({ quiet: false, verbose: false, color, redactor: new Redactor(), stream: io.stderr });
  let report: Report;
  try {
    report = await readReport(file);
  } catch (error) {
    output.line(`ekso-conformance: ${(error as Error).message}`);
    return 2;
  }
  const wanted = raw.check as string | undefined;
  const targets = report.checks.filter((c) => (wanted ? c.id === wanted : c.status === 'failed'));
  if (wanted && !targets.length) {
    output.line(`ekso-conformance: ${file} has no check ${wanted}`);
    return 2;
  }
  if (!targets.length) {
    output.line(`${file}: no failed check to replay`);
    return 0;
  }
  const recorded = (report.options ?? {}) as Record<string, unknown>;
  const outRoot = (raw.out as string | undefined) ?? join(dirname(file), 'replay');
  let worst = 0;
  for (const check of targets) {
    const common = {
      out: join(outRoot, check.id),
      reporter: (raw.reporter as ReporterName[] | undefined) ?? [...REPORTERS],
      seed: report.seed,
      check: checkPatterns(check.id),
      checkText: check.id,
      policy: parsePolicy(report.policy) ?? STRICT,
      strict: Boolean(recorded.strict),
      quiet: Boolean(raw.quiet),
      verbose: Boolean(raw.verbose),
      color,
      ...(check.path ? { path: check.path } : {}),
      ...(check.replayPath ? { replayPath: check.replayPath } : {}),
      ...(typeof recorded.numRuns === 'number' ? { numRuns: recorded.numRuns } : {}),
    };
    output.line(`replaying ${check.id} (seed ${report.seed}${check.path ? `, path ${check.path}` : ''})`);
    let code: number;
    if (report.mode === 'backend') {
      code = await runBackendCommand({
        ...common,
        ...(typeof recorded.baseUrl === 'string' ? { baseUrl: recorded.baseUrl } : {}),
        ...(typeof recorded.tenant === 'string' ? { tenant: recorded.tenant } : {}),
        ...(typeof recorded.profile === 'string' ? { profile: recorded.profile } : {}),
        ...(typeof recorded.mutant === 'string' ? { mutant: recorded.mutant } : {}),
        ...(typeof recorded.serverCmd === 'string' ? { serverCmd: recorded.serverCmd } : {}),
        ...(typeof recorded.readyUrl === 'string' ? { readyUrl: recorded.readyUrl } : {}),
        ...(typeof recorded.image === 'string' ? { image: recorded.image } : {}),
        ...(typeof recorded.tokenCommand === 'string' ? { tokenCommand: recorded.tokenCommand } : {}),
        ...(typeof recorded.deviceApproveCommand === 'string' ? { deviceApproveCommand: recorded.deviceApproveCommand } : {}),
        ...(process.env.EKSO_ADMIN_API_KEY ? { adminKey: process.env.EKSO_ADMIN_API_KEY } : {}),
        ...(process.env.EKSO_USER_API_KEY ? { userKey: process.env.EKSO_USER_API_KEY } : {}),
        clientId: typeof recorded.clientId === 'string' ? recorded.clientId : 'ekso-cli',
        ...(typeof recorded.otherClientId === 'string' ? { otherClientId: recorded.otherClientId } : {}),
        concurrency: typeof recorded.concurrency === 'number' ? recorded.concurrency : 8,
        timeout: typeof recorded.timeout === 'number' ? recorded.timeout : 30,
        checkRateLimit: Boolean(recorded.checkRateLimit),
        insecure: true,
        readyTimeout: 60,
      });
    } else {
      const { runSdkCommand } = await import('./sdk-command.js');
      code = await runSdkCommand({
        ...common,
        ...(typeof recorded.adapter === 'string' ? { adapter: recorded.adapter } : {}),
        ...(typeof recorded.mutant === 'string' ? { mutant: recorded.mutant } : {}),
        timeout: typeof recorded.timeout === 'number' ? recorded.timeout : 30,
      });
    }
    output.line(`${check.id}: ${code === 1 ? 'FAILED again' : code === 0 ? 'passed now (fixed, or not reproduced)' : 'inconclusive'}`);
    worst = code === 1 || worst === 1 ? 1 : Math.max(worst, code);
  }
  return worst;
}
