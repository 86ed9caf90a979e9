/**
 * Small text helpers shared by the engine, the targets, the runs and the reports (one of each:
 * a diagnosis, a console line and a report cell must agree on how they fold and count).
 */
import { createHash } from 'node:crypto';

/** Folds a message onto one line (whitespace runs holding a line break become one space); `max` caps it with `…`. */
export function oneLine(text: string, max = Infinity): string {
  const flat = text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A duration for people: `250 ms`, `4.2 s`, `3.5 min`, `2.0 h`, `7.0 d`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < HOUR) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms < DAY) return `${(ms / HOUR).toFixed(1)} h`;
  return `${(ms / DAY).toFixed(1)} d`;
}

/** SHA-256 of a UTF-8 string, hex. */
export function sha256Hex(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}
