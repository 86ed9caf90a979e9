/**
 * Parsers of option values: each rejects a bad value with a one-line reason (commander prints it
 * and the CLI exits 2).
 */
import dns from 'node:dns';
import net from 'node:net';
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

/**
 * The allowed range of every numeric flag (and of the same values read back from a report by
 * `replay`). Choice: every bound keeps the value well inside what Node's timers can hold (2^31-1 ms,
 * about 24.8 days: a longer delay fires at once) and inside what makes sense against a live
 * target; `min` is exclusive for the `exclusiveMin` ones ("more than 0").
 */
export const BOUNDS = {
  timeout: { min: 0, exclusiveMin: true, max: 3600, integer: false, unit: 'seconds' },
  readyTimeout: { min: 0, exclusiveMin: true, max: 3600, integer: false, unit: 'seconds' },
  maxTime: { min: 0, exclusiveMin: true, max: 604_800, integer: false, unit: 'seconds' },
  rate: { min: 0.01, exclusiveMin: false, max: 100_000, integer: false, unit: 'requests per second' },
  concurrency: { min: 1, exclusiveMin: false, max: 1000, integer: true, unit: '' },
  numRuns: { min: 1, exclusiveMin: false, max: 1_000_000, integer: true, unit: '' },
  imagePort: { min: 1, exclusiveMin: false, max: 65_535, integer: true, unit: '' },
  port: { min: 0, exclusiveMin: false, max: 65_535, integer: true, unit: '' },
  rateLimit: { min: 0, exclusiveMin: false, max: 1_000_000, integer: true, unit: 'requests per second' },
  graceSeconds: { min: 0, exclusiveMin: false, max: 86_400, integer: false, unit: 'seconds' },
  shardCount: { min: 1, exclusiveMin: false, max: 10_000, integer: true, unit: '' },
} as const;

export type BoundName = keyof typeof BOUNDS;

/** "a number of seconds, more than 0 and at most 3600" — the message of a value out of range. */
export function describeBound(name: BoundName): string {
  const b = BOUNDS[name];
  const what = b.integer ? 'an integer' : 'a number';
  const unit = b.unit ? ` of ${b.unit}` : '';
  const low = b.exclusiveMin ? `more than ${b.min}` : `at least ${b.min}`;
  return `expected ${what}${unit}, ${low} and at most ${b.max}`;
}

export function withinBound(name: BoundName, n: number): boolean {
  const b = BOUNDS[name];
  if (!Number.isFinite(n) || (b.integer && !Number.isInteger(n))) return false;
  return (b.exclusiveMin ? n > b.min : n >= b.min) && n <= b.max;
}

/** A commander parser for a numeric flag with a range (exit 2 naming the range otherwise). */
export function bounded(name: BoundName): (value: string) => number {
  return (value: string) => {
    const text = value.trim();
    const n = BOUNDS[name].integer ? (/^\d+$/.test(text) ? Number(text) : Number.NaN) : text === '' ? Number.NaN : Number(text);
    if (!withinBound(name, n)) throw new InvalidArgumentError(describeBound(name));
    return n;
  };
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
  if (parsed.kind === 'grace' && !withinBound('graceSeconds', parsed.seconds)) throw new InvalidArgumentError(`grace=<seconds>: ${describeBound('graceSeconds')}`);
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
  if (!withinBound('shardCount', count)) throw new InvalidArgumentError(`n: ${describeBound('shardCount')}`);
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

// ---- the loopback rule (H-06) ----------------------------------------------------------------

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Whether an IP address is a loopback address: 127.0.0.0/8, ::1 (any spelling), and the
 * IPv4-mapped IPv6 form of 127.0.0.0/8 (`::ffff:127.0.0.1`, which the URL parser writes
 * `::ffff:7f00:1`): a connection to it is a connection to 127.x over IPv4.
 *
 * Choice: the unspecified addresses `0.0.0.0` and `::` are not loopback, although Linux connects
 * them to the local host: that is an operating-system convention, not an address of the loopback
 * interface, and on other systems they fail or mean something else. Nor is the deprecated
 * IPv4-compatible form `::127.0.0.1` (`::7f00:1`), which is not routed to 127.0.0.1.
 */
export function isLoopbackAddress(address: string): boolean {
  const ip = address.replace(/^\[|\]$/g, '');
  const family = net.isIP(ip);
  if (family === 0) return false;
  return LOOPBACK.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

/** `localhost` and names under `.localhost` (RFC 6761), with or without the final dot. */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * Loopback by the URL alone (no name resolution): a loopback IP literal, or a `localhost` name.
 * Used for defaults (the rate cap); the refusal of plain http:// uses `plainHttpRefusal`, which
 * also checks what a `localhost` name really resolves to.
 */
export function isLoopbackHost(hostname: string): boolean {
  return isLoopbackAddress(hostname) || isLocalhostName(hostname);
}

/**
 * Why plain `http://` to this URL is refused (H-06), or null when it is allowed: https, --insecure,
 * a loopback IP literal, or a `localhost` name that resolves — here, through the resolver the
 * requests will use — to loopback addresses only. Any other name is refused without being
 * resolved (Choice: a name that resolves to 127.0.1.1 through /etc/hosts is still refused; give
 * the address). The requests themselves go through `loopbackOnlyLookup`, so a name that resolves
 * differently later (DNS rebinding) is refused at connection time too.
 */
export async function plainHttpRefusal(url: string, flag: string, insecure: boolean): Promise<string | null> {
  const parsed = new URL(url);
  if (parsed.protocol !== 'http:' || insecure) return null;
  const host = parsed.hostname;
  const refuse = (why: string) => `refusing plain http:// to ${host} (${flag}): ${why}; use https, or --insecure if you really mean it`;
  if (net.isIP(host.replace(/^\[|\]$/g, ''))) return isLoopbackAddress(host) ? null : refuse('not a loopback address');
  if (!isLocalhostName(host)) return refuse('not loopback');
  let addresses: dns.LookupAddress[];
  try {
    addresses = await dns.promises.lookup(host, { all: true, verbatim: true });
  } catch (error) {
    return refuse(`the name does not resolve (${(error as NodeJS.ErrnoException).code ?? 'error'}), so it cannot be shown to be loopback`);
  }
  const foreign = addresses.filter((a) => !isLoopbackAddress(a.address));
  if (!addresses.length || foreign.length) return refuse(`it resolves to ${foreign.map((a) => a.address).join(', ') || 'nothing'}, not loopback`);
  return null;
}

/**
 * A `lookup` for the HTTP client of a plain-http target: resolves as usual, but fails the
 * connection when any address is not loopback (a name that changed since the run started).
 */
export const loopbackOnlyLookup = ((hostname: string, options: dns.LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void): void => {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, options.all ? [] : '', 0);
    const foreign = addresses.filter((a) => !isLoopbackAddress(a.address));
    if (!addresses.length || foreign.length) {
      const refused: NodeJS.ErrnoException = new Error(`refusing plain http:// to ${hostname}: it now resolves to ${foreign.map((a) => a.address).join(', ') || 'nothing'}, not loopback (H-06)`);
      refused.code = 'ENOTLOOPBACK';
      return callback(refused, options.all ? [] : '', 0);
    }
    if (options.all) return callback(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
}) as unknown as typeof dns.lookup;

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
