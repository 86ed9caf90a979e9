/**
 * Parsers of option values: each rejects a bad value with a one-line reason (commander prints it
 * and the CLI exits 2).
 */
import { InvalidArgumentError } from 'commander';
import { parsePolicy, type Policy } from '../model/policy.js';
import { REPORTERS, type ReporterName } from '../report/write.js';
import { isRequirementId } from '../spec/requirements.js';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value.trim()) || Number(value) <= 0) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a non-negative integer');
  return Number(value);
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
}

export function seed(value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new InvalidArgumentError('expected an integer');
  const n = Number(value);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new InvalidArgumentError('expected a 32-bit integer');
  return n;
}

export function policy(value: string): Policy {
  const parsed = parsePolicy(value);
  if (!parsed) throw new InvalidArgumentError('expected "strict" or "grace=<seconds>"');
  return parsed;
}

export function reporters(value: string): ReporterName[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = names.filter((n) => !(REPORTERS as readonly string[]).includes(n));
  if (!names.length || bad.length) throw new InvalidArgumentError(`expected a comma list of ${REPORTERS.join(', ')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}`);
  return names as ReporterName[];
}

export function shard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected i/n, e.g. 1/3');
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || index < 1 || index > count) throw new InvalidArgumentError('expected 1 ≤ i ≤ n');
  return { index, count };
}

export function url(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an absolute http(s) URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidArgumentError('expected an http(s) URL');
  if (parsed.search || parsed.hash) throw new InvalidArgumentError('a base URL has no query or fragment');
  return value.replace(/\/+$/, '');
}

export function tenant(value: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{1,18}[a-z0-9])?$/.test(value)) throw new InvalidArgumentError('expected a tenant subdomain (3–20 lowercase letters, digits, hyphens)');
  return value;
}

export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected KEY=VALUE');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export function port(value: string): number {
  const n = nonNegativeInt(value);
  if (n > 65535) throw new InvalidArgumentError('expected a port number (0–65535)');
  return n;
}

/** Loopback hosts: the only ones plain http:// may reach without --insecure (H-06). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** `--check` patterns: check ids or requirement ids, `*` and `?` wildcards, comma-separated. */
export function checkPatterns(value: string, previous: RegExp[] = []): RegExp[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (!parts.length) throw new InvalidArgumentError('expected check or requirement ids (globs allowed)');
  return [
    ...previous,
    ...parts.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i')),
  ];
}

/** `--tolerate RT-08,SDK-04`: requirement ids (a finding's replay names the violations it went past). */
export function requirementIds(value: string): string[] {
  const ids = value.split(',').map((v) => v.trim()).filter(Boolean);
  const bad = ids.filter((id) => !isRequirementId(id));
  if (!ids.length || bad.length) throw new InvalidArgumentError(`expected requirement ids (e.g. RT-08,SDK-04)${bad.length ? `; unknown: ${bad.join(', ')}` : ''}`);
  return ids;
}
