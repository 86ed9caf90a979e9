/**
 * `npm run bench`: measures speed (never asserted by tests). Prints a table, writes
 * bench/results.json and refreshes the figures in README.md between the bench markers.
 *
 * 1. Transport throughput: the harness's HTTP client (rate limiter, redaction, transcript) against
 *    bare `fetch` and node:http loops hitting the same endpoint of the in-process reference
 *    backend, the loops taking turns (see `transport`).
 * 2. Wall time of the full default backend run and SDK run against the embedded references, and
 *    of the SDK run over stdio without the clock capability (`adapter --no-clock`: real time, the
 *    path of SDKs in other languages), with how many requirements it judged.
 * 3. Per mutant, over 10 seeds: median runs and milliseconds to the first failure and to the
 *    shrunk counterexample (only the checks covering the broken requirements run).
 * 4. Deep runs (issue 13): the whole default backend run against the embedded reference with
 *    `--num-runs` 100, 500 and 1000, each in a process of its own: wall time and peak RSS, and
 *    the ratios — linear cost means 500 runs ≤ 5.5 × and 1000 runs ≤ 11 × the 100-run time,
 *    flat memory means peak RSS within 1.5 × the 100-run figure. (EKSO_BENCH_DEEP=quick: 100 and
 *    500 only.)
 *
 * EKSO_BENCH_ONLY=transport measures 1 alone and writes nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBackendCommand } from '../src/cli/backend-command.js';
import { checkPatterns, loopbackOnlyLookup } from '../src/cli/options.js';
import { runSdkCommand } from '../src/cli/sdk-command.js';
import { Redactor } from '../src/engine/redact.js';
import { parsePolicy, STRICT } from '../src/model/policy.js';
import { BACKEND_MUTANTS, SDK_MUTANTS } from '../src/mutants/index.js';
import { createReferenceBackend } from '../src/reference/backend/index.js';
import type { Report } from '../src/report/schema.js';
import { bearer, BackendDriver } from '../src/targets/backend/driver.js';
import { HttpClient } from '../src/targets/http.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `task` with stderr silenced (the commands print progress there). */
async function silently<T>(task: () => Promise<T>): Promise<T> {
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return await task();
  } finally {
    process.stderr.write = write;
  }
}

/** The same request with node:http and a keep-alive agent, nothing else: the other physical limit. */
function bareNodeHttp(url: string, key: string): () => Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request(url, { agent, headers: { authorization: `Bearer ${key}`, accept: 'application/json' } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
}

/**
 * Runs the loops taking turns, BLOCK requests at a time, `rounds` times after a warm-up; each
 * loop's summed time. Each round starts with the next loop, so that each follows each other as
 * often (garbage one leaves is not always collected in the time of the same other).
 */
async function takingTurns<K extends string>(loops: Record<K, () => Promise<unknown>>, rounds: number): Promise<Record<K, { ms: number; requests: number }>> {
  const BLOCK = 50;
  const WARM_UP_ROUNDS = 20;
  const names = Object.keys(loops) as K[];
  const spent = Object.fromEntries(names.map((n) => [n, { ms: 0, requests: 0 }])) as Record<K, { ms: number; requests: number }>;
  for (let round = 0; round < WARM_UP_ROUNDS + rounds; round++) {
    for (let turn = 0; turn < names.length; turn++) {
      const name = names[(round + turn) % names.length]!;
      const started = performance.now();
      for (let i = 0; i < BLOCK; i++) await loops[name]();
      if (round < WARM_UP_ROUNDS) continue;
      spent[name].ms += performance.now() - started;
      spent[name].requests += BLOCK;
    }
  }
  return spent;
}

interface TransportFigures {
  bareRps: number;
  bareFetchRps: number;
  bareNodeHttpRps: number;
  harnessRps: number;
  ratio: number;
  requests: number;
}

/**
 * Throughput of the harness's client against the fastest bare loop, the same authenticated GET
 * to the in-process reference, one request at a time. The harness client is configured as a
 * backend run configures it (the run's stop signal, the loopback-only name lookup, a recorder
 * keeping the current execution's exchanges) and driven through the backend driver, as checks
 * drive it.
 *
 * How it is measured: loops take turns in blocks of 50 requests (`takingTurns`) and each loop's
 * throughput is its requests over its summed time: the faster bare loop and the harness, 500
 * rounds. This machine's speed drifts by
 * ±15 % from one second to the next (a bare loop measured alone moved between 7,000 and 8,500
 * req/s): taking turns every few milliseconds gives every loop the same share of the drift, where
 * loops measured one after the other for a second each gave ratios from 81 % to 94 % on the
 * same code.
 */
async function transport(): Promise<TransportFigures> {
  const backend = createReferenceBackend({ testHooks: true });
  const { baseUrl } = await backend.listen(0, '127.0.0.1');
  const key = backend.bootstrap.adminKey;
  const url = `${baseUrl}/api/field`;
  const headers = { authorization: `Bearer ${key}`, accept: 'application/json' };
  const bareFetch = async () => {
    const response = await fetch(url, { headers });
    await response.arrayBuffer();
  };
  const bareNode = bareNodeHttp(url, key);
  // As src/run/backend.ts builds it for a plain-http loopback target.
  const stopRequests = new AbortController();
  const client = new HttpClient({ redactor: new Redactor(), allowedOrigins: [baseUrl], lookup: loopbackOnlyLookup, ratePerSecond: null, concurrency: 8, timeoutMs: 30_000, signal: stopRequests.signal });
  const recorded: unknown[] = [];
  client.sink = {
    record: (e) => {
      recorded.push(e);
      if (recorded.length > 200) recorded.length = 0; // a check keeps only its current execution
    },
  };
  const driver = new BackendDriver(baseUrl, {}, client, 'ekso-cli');
  const credential = bearer(key);
  // No async wrapper (the bare loops have none either): the loop awaits the driver's own promise.
  const harness = () => driver.probe(credential);
  // node:http against the harness, then fetch against node:http (and, should fetch be the
  // faster, fetch against the harness): fetch leaves much garbage behind, which would be
  // collected in the time of the loops that follow it.
  let main = await takingTurns({ bare: bareNode, harness }, 500);
  const bare = await takingTurns({ bareFetch, bareNode }, 60);
  const fastestBare = bare.bareFetch.ms < bare.bareNode.ms ? bareFetch : bareNode;
  if (fastestBare === bareFetch) main = await takingTurns({ bare: bareFetch, harness }, 500);
  client.close();
  await backend.close();
  const rps = (figure: { ms: number; requests: number }) => figure.requests / (figure.ms / 1000);
  const bareFetchRps = rps(fastestBare === bareFetch ? main.bare : bare.bareFetch);
  const bareNodeHttpRps = rps(fastestBare === bareNode ? main.bare : bare.bareNode);
  const harnessRps = rps(main.harness);
  // The ratio compares the loops that took turns: the faster bare loop and the harness.
  const bareRps = rps(main.bare);
  const requests = main.harness.requests;
  return { bareRps, bareFetchRps, bareNodeHttpRps, harnessRps, ratio: harnessRps / bareRps, requests };
}

async function report(out: string): Promise<Report> {
  return JSON.parse(await readFile(join(out, 'ekso-conformance.json'), 'utf8')) as Report;
}

const COMMON = { reporter: ['json' as const], policy: STRICT, strict: false, quiet: true, verbose: false, color: false };

/** The reference SDK over stdio without its clock: real time, as an SDK in another language runs. */
const NO_CLOCK_ADAPTER = `node ${JSON.stringify(join(ROOT, 'dist', 'cli.js'))} adapter --no-clock`;

interface NoClockRun {
  ms: number;
  /** SDK/STORE requirements passed or failed (judged), of all of them. */
  judged: number;
  requirements: number;
  sessionModel: string;
  /** check id → ms, of this run. */
  checks: Record<string, number>;
}

async function fullRuns(): Promise<{ backendMs: number; sdkMs: number; noClock: NoClockRun }> {
  const backend: number[] = [];
  const sdk: number[] = [];
  const noClock: NoClockRun[] = [];
  for (const seed of [1, 2, 3]) {
    const out = await mkdtemp(join(tmpdir(), 'ekso-bench-'));
    let started = performance.now();
    await silently(() => runBackendCommand({ ...COMMON, out, seed, clientId: 'ekso-cli', concurrency: 8, timeout: 30, checkRateLimit: false, insecure: false, readyTimeout: 30 }));
    backend.push(performance.now() - started);
    started = performance.now();
    await silently(() => runSdkCommand({ ...COMMON, out, seed, timeout: 30 }));
    sdk.push(performance.now() - started);
    started = performance.now();
    await silently(() => runSdkCommand({ ...COMMON, out, seed, adapter: NO_CLOCK_ADAPTER, timeout: 30 }));
    const ms = performance.now() - started;
    const r = await report(out);
    const sdkSide = r.requirements.filter((q) => q.side === 'sdk');
    noClock.push({
      ms,
      judged: sdkSide.filter((q) => q.status === 'passed' || q.status === 'failed').length,
      requirements: sdkSide.length,
      sessionModel: r.checks.find((c) => c.id === 'sdk.session.model')?.status ?? 'absent',
      checks: Object.fromEntries(r.checks.map((c) => [c.id, c.durationMs])),
    });
    await rm(out, { recursive: true, force: true });
  }
  const middle = [...noClock].sort((a, b) => a.ms - b.ms)[1]!;
  return { backendMs: median(backend), sdkMs: median(sdk), noClock: middle };
}

interface MutantFigure {
  side: 'backend' | 'sdk';
  name: string;
  breaks: readonly string[];
  detected: number;
  seeds: number;
  medianRuns: number;
  medianFirstFailureMs: number;
  medianShrunkMs: number;
}

async function mutantFigures(): Promise<MutantFigure[]> {
  const figures: MutantFigure[] = [];
  const measure = async (side: 'backend' | 'sdk', name: string, breaks: readonly string[], run: (seed: number, out: string) => Promise<number>) => {
    const runs: number[] = [];
    const first: number[] = [];
    const shrunk: number[] = [];
    let detected = 0;
    for (const seed of SEEDS) {
      const out = await mkdtemp(join(tmpdir(), 'ekso-bench-'));
      await silently(() => run(seed, out));
      const r = await report(out);
      await rm(out, { recursive: true, force: true });
      const failing = r.checks.filter((c) => c.status === 'failed' && (c.failedRequirements ?? []).some((id) => breaks.includes(id)));
      if (!failing.length) continue;
      detected += 1;
      const fastest = failing.reduce((a, b) => ((a.firstFailureMs ?? a.durationMs) <= (b.firstFailureMs ?? b.durationMs) ? a : b));
      runs.push(fastest.runs);
      first.push(fastest.firstFailureMs ?? fastest.durationMs);
      shrunk.push(fastest.durationMs);
    }
    figures.push({ side, name, breaks, detected, seeds: SEEDS.length, medianRuns: median(runs), medianFirstFailureMs: median(first), medianShrunkMs: median(shrunk) });
  };
  for (const m of BACKEND_MUTANTS) {
    const policy = m.runWith?.policy ? parsePolicy(m.runWith.policy) ?? STRICT : STRICT;
    await measure('backend', m.name, m.breaks, (seed, out) =>
      runBackendCommand({
        ...COMMON,
        policy,
        out,
        seed,
        mutant: m.name,
        check: checkPatterns(m.breaks.join(',')),
        checkText: m.breaks.join(','),
        clientId: 'ekso-cli',
        concurrency: 8,
        timeout: 30,
        checkRateLimit: Boolean(m.runWith?.checkRateLimit),
        insecure: false,
        readyTimeout: 30,
      }),
    );
  }
  for (const m of SDK_MUTANTS) {
    await measure('sdk', m.name, m.breaks, (seed, out) => runSdkCommand({ ...COMMON, out, seed, mutant: m.name, check: checkPatterns(m.breaks.join(',')), checkText: m.breaks.join(','), timeout: 30 }));
  }
  return figures;
}

interface DeepRun {
  numRuns: number;
  ms: number;
  /** Peak resident set size of the run's process, MB. */
  peakRssMb: number;
  exitCode: number | null;
}

/** One whole default backend run in a process of its own, so that its peak RSS is its own. */
async function deepRun(numRuns: number): Promise<DeepRun> {
  const dir = await mkdtemp(join(tmpdir(), 'ekso-bench-deep-'));
  const preload = join(dir, 'max-rss.cjs');
  const rssFile = join(dir, 'rss');
  await writeFile(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(rssFile)}, String(process.resourceUsage().maxRSS)));\n`);
  const started = performance.now();
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--require', preload, join(ROOT, 'dist', 'cli.js'), '--num-runs', String(numRuns), '--seed', '1', '--out', join(dir, 'out'), '--reporter', 'json', '--quiet'], { stdio: 'ignore' });
    child.on('close', (code) => resolve(code));
  });
  const ms = performance.now() - started;
  const peakRssMb = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN')) / 1024;
  await rm(dir, { recursive: true, force: true });
  return { numRuns, ms, peakRssMb, exitCode };
}

async function deepRuns(): Promise<DeepRun[]> {
  const counts = [100, 500, ...(process.env.EKSO_BENCH_DEEP === 'quick' ? [] : [1000])];
  const runs: DeepRun[] = [];
  for (const n of counts) {
    const run = await deepRun(n);
    process.stdout.write(`deep run: --num-runs ${n}: ${(run.ms / 1000).toFixed(1)} s, peak RSS ${run.peakRssMb.toFixed(0)} MB (exit ${run.exitCode})\n`);
    runs.push(run);
  }
  return runs;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, k) => {
    const line = `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return k === 0 ? `${line}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|` : line;
  }).join('\n');
}

async function main(): Promise<void> {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
  process.stdout.write(`ekso-conformance benchmark on ${machine}\n`);
  const t = await transport();
  process.stdout.write(`transport: bare fetch ${t.bareFetchRps.toFixed(0)} req/s, bare node:http ${t.bareNodeHttpRps.toFixed(0)} req/s, harness client ${t.harnessRps.toFixed(0)} req/s (${(t.ratio * 100).toFixed(0)} % of the faster bare loop)\n`);
  // EKSO_BENCH_ONLY=transport: this figure alone, nothing written (a quick look while tuning).
  if (process.env.EKSO_BENCH_ONLY === 'transport') return;
  const full = await fullRuns();
  const nc = full.noClock;
  process.stdout.write(`full runs: backend ${(full.backendMs / 1000).toFixed(1)} s, sdk ${(full.sdkMs / 1000).toFixed(1)} s in-process, ${(nc.ms / 1000).toFixed(1)} s over stdio without a clock (${nc.judged}/${nc.requirements} requirements judged, sdk.session.model ${nc.sessionModel})\n`);
  const deep = await deepRuns();
  const mutants = await mutantFigures();
  const fmt = (n: number, digits = 0) => (Number.isNaN(n) ? '—' : n.toFixed(digits));
  const mutantTable = table([
    ['side', 'mutant', 'breaks', 'detected', 'median runs', 'median ms to first failure', 'median ms to shrunk'],
    ...mutants.map((m) => [m.side, m.name, m.breaks.join(', '), `${m.detected}/${m.seeds}`, fmt(m.medianRuns), fmt(m.medianFirstFailureMs), fmt(m.medianShrunkMs)]),
  ]);
  const summary = table([
    ['measure', 'figure', 'target'],
    ['harness throughput / fastest bare loop (fetch or node:http; in-process reference, sequential, loops taking turns)', `${t.harnessRps.toFixed(0)} / ${t.bareRps.toFixed(0)} req/s = ${(t.ratio * 100).toFixed(0)} %`, '≥ 90 %'],
    ['full default backend run (embedded reference)', `${(full.backendMs / 1000).toFixed(1)} s`, '< 20 s'],
    ['full default SDK run (reference SDK, in-process)', `${(full.sdkMs / 1000).toFixed(1)} s`, '< 20 s'],
    [
      'full default SDK run (reference SDK over stdio, no clock: real time)',
      `${(nc.ms / 1000).toFixed(1)} s (${nc.judged}/${nc.requirements} SDK/STORE requirements judged, \`sdk.session.model\` ${nc.sessionModel})`,
      '≤ 60 s',
    ],
    ...deep.slice(1).map((d) => {
      const base = deep[0]!;
      const scale = d.numRuns / base.numRuns;
      return [
        `deep run: whole default backend run, --num-runs ${d.numRuns} vs ${base.numRuns} (time; peak RSS)`,
        `${(d.ms / 1000).toFixed(1)} s / ${(base.ms / 1000).toFixed(1)} s = ${(d.ms / base.ms).toFixed(2)} ×; ${d.peakRssMb.toFixed(0)} MB / ${base.peakRssMb.toFixed(0)} MB = ${(d.peakRssMb / base.peakRssMb).toFixed(2)} ×`,
        `≤ ${(scale * 1.1).toFixed(1)} ×; ≤ 1.5 ×`,
      ];
    }),
    ['slowest mutant detection (median ms to first failure)', mutants.length ? `${fmt(Math.max(...mutants.map((m) => (Number.isNaN(m.medianFirstFailureMs) ? Infinity : m.medianFirstFailureMs))))} ms` : '—', '< 5000 ms'],
  ]);
  process.stdout.write(`\n${summary}\n\n${mutantTable}\n`);
  const noClockTable = table([['check (no-clock run, median of 3)', 'time'], ...Object.entries(nc.checks).map(([id, ms]) => [`\`${id}\``, `${(ms / 1000).toFixed(1)} s`])]);
  process.stdout.write(`\n${noClockTable}\n`);
  const results = { date: new Date().toISOString(), machine, transport: t, fullRuns: full, deepRuns: deep, mutants };
  await writeFile(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  const readmePath = join(ROOT, 'README.md');
  const readme = await readFile(readmePath, 'utf8');
  const section = `<!-- bench:start -->\nMeasured by \`npm run bench\` on ${results.date.slice(0, 10)}, ${machine}:\n\n${summary}\n\n<details><summary>Each check of the no-clock run (they run side by side: the run lasts about as long as the slowest)</summary>\n\n${noClockTable}\n\n</details>\n\n<details><summary>Every mutant (10 seeds each)</summary>\n\n${mutantTable}\n\n</details>\n<!-- bench:end -->`;
  if (readme.includes('<!-- bench:start -->')) {
    await writeFile(readmePath, readme.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, section));
  }
  process.stdout.write('\nwrote bench/results.json and the README figures\n');
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
