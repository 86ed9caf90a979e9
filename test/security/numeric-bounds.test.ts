/**
 * Issue 11 point 9: every numeric flag has a range, and a value outside it is a usage error (exit
 * 2, one line naming the range) — never a timer that overflows (`--timeout 3000000` fired at once:
 * "target unreachable"; `--max-time 3000000` made every check "not run").
 *
 * `--check NOPE-*` follows every value: a value the parser accepts then ends in a different usage
 * error ("matches no check"), so no case ever starts a run.
 */
import { describe, expect, it } from 'vitest';
import { hasStackTrace, lines, runCli } from '../support/cli.js';

const NO_RUN = ['--check', 'NOPE-*', '--out', '/nonexistent/never-written'];

describe.concurrent('numeric flags out of range: exit 2 naming the range', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--timeout', '3000000'], /--timeout.*more than 0 and at most 3600/],
    [['--timeout', '0'], /--timeout.*more than 0 and at most 3600/],
    [['--max-time', '3000000'], /--max-time.*more than 0 and at most 604800/],
    [['--ready-timeout', '1e9'], /--ready-timeout.*at most 3600/],
    [['--rate', '0.000001'], /--rate.*at least 0\.01 and at most 100000/],
    [['--rate', '1e12'], /--rate.*at most 100000/],
    [['--concurrency', '100000'], /--concurrency.*integer, at least 1 and at most 1000/],
    [['--num-runs', '99999999'], /--num-runs.*at most 1000000/],
    [['--image-port', '0'], /--image-port.*at least 1 and at most 65535/],
    [['--shard', '1/99999'], /--shard.*at most 10000/],
    [['--policy', 'grace=99999999'], /--policy.*at most 86400/],
    [['sdk', '--timeout', '3000000'], /--timeout.*at most 3600/],
    [['sdk', '--max-time', '3000000'], /--max-time.*at most 604800/],
    [['sdk', '--num-runs', '99999999'], /--num-runs.*at most 1000000/],
    [['serve', '--rate-limit', '99999999999', '--host', '256.0.0.1'], /--rate-limit.*at most 1000000/],
  ];
  it.each(cases)('%j', async (args, message) => {
    const result = await runCli(args[0] === 'serve' ? args : [...args, ...NO_RUN]);
    const context = `stderr:\n${result.stderr}`;
    expect(result.code, context).toBe(2);
    expect(lines(result.stderr), context).toHaveLength(1);
    expect(hasStackTrace(result.stderr), context).toBe(false);
    expect(result.stderr).toMatch(message);
  });

  it('the largest values in range are accepted (the run then stops on --check NOPE-*)', async () => {
    const result = await runCli(['--timeout', '3600', '--max-time', '604800', '--rate', '0.01', '--concurrency', '1000', '--num-runs', '1000000', '--ready-timeout', '3600', '--policy', 'grace=86400', ...NO_RUN]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--check NOPE-\* matches no check/);
  });
});
