/** The refresh-token reuse policy (REQUIREMENTS "Policy", CONTRACT §1 `--policy`). */
import type { RefreshPolicy } from './types.js';

/** Parses `strict` or `grace=<seconds>` (CONTRACT §1 `--policy`). Throws on anything else. */
export function parsePolicy(text: string): RefreshPolicy {
  const trimmed = text.trim();
  if (trimmed === 'strict') return { kind: 'strict' };
  const match = /^grace=(\d+(?:\.\d+)?)$/.exec(trimmed);
  if (match) {
    const seconds = Number(match[1]);
    if (Number.isFinite(seconds) && seconds > 0) return { kind: 'grace', seconds };
  }
  throw new Error(`invalid policy "${text}": expected "strict" or "grace=<seconds>" with seconds > 0`);
}
