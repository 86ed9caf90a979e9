/**
 * The concurrency mutants over stdio, seed 1 (the soak tier, test/soak/sdk-kill-stdio.soak.test.ts,
 * runs more seeds): with real concurrency over HTTP instead of scheduled interleavings, each still
 * fails exactly its `breaks`.
 */
import { stdioKillSuite } from '../support/sdk-kill-stdio.js';

stdioKillSuite([1]);
