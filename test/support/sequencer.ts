/**
 * The order test files start in. vitest starts the files it has timed before longest first, but
 * only from a results cache that a fresh clone (CI) does not have; without it, it starts the largest
 * files first, and a short file that waits a minute (the configuration matrix, the real-time SDK
 * runs) can start last and hold the whole suite up. The files measured slowest (wall time, the
 * everyday suite on this 2-core machine) start first, in this order, on any checkout; every other
 * file follows in vitest's own order. Keep the list roughly current when a file grows (measure with
 * EKSO_TEST_CPU=<file>, see test/support/cpu-per-file.ts).
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const SLOWEST_FIRST = [
  'test/backend/config-matrix.test.ts',
  'test/sdk/real-time.test.ts',
  'test/mutants/kill-rate.api-keys.test.ts',
  'test/backend/config-truth.test.ts',
  'test/backend-robustness/misbehaving.test.ts',
  'test/mutants/kill-rate.rotation.test.ts',
  'test/third-party/third-party.test.ts',
  'test/sdk/false-positives.test.ts',
  'test/mutants/masking.test.ts',
  'test/mutants/sdk-kill-refresh.test.ts',
  'test/mutants/kill-rate.flows-markers-errors.test.ts',
  'test/mutants/sdk-kill-client-store.test.ts',
  'test/backend-robustness/secrets.test.ts',
  'test/mutants/sdk-kill-stdio.test.ts',
  'test/ci/server-cmd.test.ts',
  'test/backend-robustness/rate-and-hosts.test.ts',
  'test/cli/config-errors.test.ts',
];

export default class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = SLOWEST_FIRST.indexOf(relative(spec.project.config.root, spec.moduleId).split('\\').join('/'));
      return i < 0 ? SLOWEST_FIRST.length : i;
    };
    // A stable sort: files off the list keep vitest's order among themselves.
    return ordered.map((spec, i) => ({ spec, i })).sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i).map(({ spec }) => spec);
  }
}
