/**
 * Issue 11 points 2, 5 and 7, end to end: a target that spells its tokens differently — JSON
 * `\uXXXX` and `\/` escapes, a form-encoded token response — and secrets the user typed inline (a
 * password in the base URL, `NAME=secret` in a token command, the profile's client secret echoed
 * by the target) never appear in any of the four reports, on the console with --verbose, or in a
 * replay line. Each case also makes a check fail, so that transcripts carrying the bodies reach
 * the reports.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReports, runCli, type CliResult } from '../support/cli.js';
import { createRecordingBackend, leakOf } from '../support/recording-reference.js';
import { pathOf, proxy, startFixture } from '../backend-robustness/fixtures/targets.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ekso-encodings-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function everything(outDir: string, result: CliResult): Promise<Record<string, string>> {
  const { files } = await readReports(outDir);
  return { ...files, stdout: result.stdout, stderr: result.stderr };
}

function leaks(places: Record<string, string>, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const secret of secrets) {
      const leak = leakOf(secret, text) ?? (secret.length < 24 && text.includes(secret) ? secret : null);
      if (leak) found.push(`${where}: ${leak.slice(0, 12)}… (of a ${secret.length}-character secret)`);
    }
  }
  return found;
}

/** Every token character escaped as \uXXXX when it is a letter a–f, and every `/` as `\/`. */
function escapeTokens(body: string): string {
  return body.replace(/"((?:access|refresh)_token)":"([^"]+)"/g, (_m, name: string, value: string) => `"${name}":"${value.replace(/[a-f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/\//g, '\\/')}"`);
}

async function hostile(rewriteToken: (body: string) => { body: string; contentType?: string }): Promise<{ baseUrl: string; issued: () => string[] }> {
  const backend = createRecordingBackend();
  const { baseUrl: upstream } = await backend.listen(0, '127.0.0.1');
  cleanups.push(() => backend.close());
  const fixture = await startFixture(
    proxy(upstream, (arrival, answer) => {
      if (!answer || pathOf(arrival) !== '/token' || answer.status !== 200 || !/refresh_token/.test(arrival.body)) return 'forward';
      // The refresh answer, re-spelt (and without token_type: RT-01 fails, its transcript is kept).
      const plain = JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(answer.body) as Record<string, unknown>).filter(([k]) => k !== 'token_type')));
      const { body, contentType } = rewriteToken(plain);
      return { ...answer, headers: { ...answer.headers, 'content-type': contentType ?? 'application/json' }, body };
    }),
  );
  cleanups.push(() => fixture.close());
  return { baseUrl: fixture.baseUrl, issued: () => backend.issued };
}

const ALL_OUTPUT = ['--reporter', 'json,junit,md,html', '--verbose', '--no-color', '--num-runs', '3'];

describe('secrets in any encoding, and secrets typed inline, never leak', () => {
  it('JSON \\uXXXX and \\/ escapes in token responses: no token in any output', async () => {
    const target = await hostile((plain) => ({ body: escapeTokens(plain) }));
    const out = await tempDir();
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'rt.*', '--out', out, '--seed', '21', ...ALL_OUTPUT]);
    expect(result.code, result.stderr).toBe(1);
    const { report } = await readReports(out);
    expect(report.requirements.find((r) => r.id === 'RT-01')?.status).toBe('failed');
    // The escaped tokens of the refresh answers came out whole as fingerprints (no escape left).
    const transcripts = JSON.stringify(report.checks.map((c) => c.transcript ?? []));
    expect(transcripts).toMatch(/expires_in\\":300,\\"refresh_token\\":\\"eks…\(len=51, sha256:[0-9a-f]{8}\)/);
    expect(transcripts).not.toContain('\\\\u00');
    expect(leaks(await everything(out, result), target.issued())).toEqual([]);
  });

  it('a form-encoded token response: no token in any output', async () => {
    const target = await hostile((plain) => ({ body: new URLSearchParams(JSON.parse(plain) as Record<string, string>).toString(), contentType: 'application/x-www-form-urlencoded' }));
    const out = await tempDir();
    const result = await runCli(['--base-url', target.baseUrl, '--check', 'rt.rotation.shape', '--out', out, '--seed', '22', ...ALL_OUTPUT]);
    expect(result.code, result.stderr).toBe(1);
    const places = await everything(out, result);
    expect(places['ekso-conformance.json']).toMatch(/refresh_token=[^&"]*…\(len=/);
    expect(leaks(places, target.issued())).toEqual([]);
  });

  it('a base-URL password, a secret inline in a token command and the profile\'s client secret: never printed', async () => {
    const target = await hostile((plain) => ({ body: plain }));
    const dir = await tempDir();
    const script = join(dir, 'tok.sh');
    // The token command fails (exit 1), and says so with its secret in view.
    await writeFile(script, '#!/bin/sh\necho "login failed for password $IDP_PASSWORD" >&2\nexit 1\n');
    await chmod(script, 0o755);
    const clientSecret = 'cl1ent-s3cret-value-42';
    const profile = join(dir, 'profile.json');
    await writeFile(profile, JSON.stringify({ clientSecret }));
    const url = new URL(target.baseUrl);
    url.username = 'alice';
    url.password = 'pa55w0rd-in-url';
    const out = await tempDir();
    const result = await runCli(['--base-url', url.toString(), '--token-command', `IDP_PASSWORD=hunter2 ${script}`, '--profile', profile, '--check', 'rt.rotation.shape', '--out', out, '--seed', '23', ...ALL_OUTPUT]);
    const places = await everything(out, result);
    expect(Object.values(places).join('\n')).toMatch(/…\(len=/);
    expect(leaks(places, ['pa55w0rd-in-url', 'IDP_PASSWORD=hunter2', 'hunter2', clientSecret])).toEqual([]);
  });

  it('a profile that is not valid JSON: the error does not quote the client secret', async () => {
    const dir = await tempDir();
    const profile = join(dir, 'profile.json');
    await writeFile(profile, '{"clientSecret": s3cret-without-quotes-99}');
    const result = await runCli(['--base-url', 'http://127.0.0.1:9', '--profile', profile, '--out', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/not valid JSON/);
    expect(result.stderr).not.toContain('s3cret');
  });
});
