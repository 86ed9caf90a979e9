/**
 * H-01: no secret of the target — raw API keys, access and refresh tokens, device codes, the
 * admin and user keys — appears in any report file or on the console, whatever the reporters,
 * with --verbose, and also when the target echoes credentials back in its answers and checks
 * fail with transcripts. Secrets appear as fingerprints only.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readReports, runCli, startServe, type CliResult, type Serve } from '../support/cli.js';
import { createRecordingBackend, leakOf, secretShapedIn, type RecordingReferenceBackend } from '../support/recording-reference.js';
import { pathOf, proxy, startFixture, type Fixture } from './fixtures/targets.js';

const FINGERPRINT = /(?:ek_live_|eyJ|\w{0,3})…\(len=\d+, sha256:[0-9a-f]{8}\)/;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ekso-secrets-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function recordingBackend(): Promise<{ backend: RecordingReferenceBackend; baseUrl: string }> {
  const backend = createRecordingBackend();
  const { baseUrl } = await backend.listen(0, '127.0.0.1');
  cleanups.push(() => backend.close());
  return { backend, baseUrl };
}

/** Every place a run can write to: the four reports, stdout and stderr. */
async function everything(outDir: string, result: CliResult): Promise<Record<string, string>> {
  const { files } = await readReports(outDir);
  return { ...files, stdout: result.stdout, stderr: result.stderr };
}

function leaks(places: Record<string, string>, secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(places)) {
    for (const secret of secrets) {
      const leak = leakOf(secret, text);
      if (leak) found.push(`${where}: ${leak.slice(0, 12)}… (of a ${secret.length}-character secret)`);
    }
    for (const shaped of secretShapedIn(text)) found.push(`${where}: secret-shaped ${shaped.slice(0, 12)}…`);
  }
  return found;
}

const ALL_OUTPUT = ['--reporter', 'json,junit,md,html', '--verbose', '--no-color'];

describe('H-01: secrets never leak', () => {
  it('a full run against the reference: no issued secret in any report or console line', async () => {
    const { backend, baseUrl } = await recordingBackend();
    const out = await tempDir();
    const result = await runCli(['--base-url', baseUrl, '--out', out, '--seed', '11', ...ALL_OUTPUT]);
    expect(result.code, result.stderr).toBe(0);
    const secrets = backend.issued;
    // Keys, refresh tokens, access tokens and device codes were all issued, and many of them.
    expect(secrets.filter((s) => s.startsWith('ek_live_')).length).toBeGreaterThan(10);
    expect(secrets.filter((s) => s.startsWith('eyJ')).length).toBeGreaterThan(10);
    expect(secrets.filter((s) => s.startsWith('ekso_rt_')).length).toBeGreaterThan(10);
    expect(secrets.filter((s) => s.startsWith('ekso_dc_')).length).toBeGreaterThan(0);
    expect(leaks(await everything(out, result), secrets)).toEqual([]);
  });

  it('keys given explicitly (serve --test-hooks): neither key appears, not even in the replay command', async () => {
    const serve: Serve = await startServe();
    cleanups.push(() => serve.stop());
    const out = await tempDir();
    const result = await runCli(['--base-url', serve.baseUrl, '--admin-key', serve.adminKey, '--user-key', serve.userKey, '--out', out, '--seed', '12', ...ALL_OUTPUT]);
    expect(result.code, result.stderr).toBe(0);
    const places = await everything(out, result);
    expect(leaks(places, [serve.adminKey, serve.userKey])).toEqual([]);
    const { report } = await readReports(out);
    expect(report.options).toMatchObject({ adminKey: 'given', userKey: 'given' });
    // The keys really were used: no check was skipped for want of an identity.
    expect(report.checks.filter((c) => c.status === 'skipped' && /--admin-key|--user-key/.test(c.message ?? ''))).toEqual([]);
  });

  it('a target that echoes credentials in its answers: failures with transcripts, fingerprints only', async () => {
    const { backend, baseUrl: upstream } = await recordingBackend();
    let lastRawKey: string | undefined;
    // Echoes the Authorization header and the request body in every error (body and header),
    // and shows the last minted raw key in the key listing (AK-02 and AK-03 fail: transcripts).
    const echo: Fixture = await startFixture(
      proxy(upstream, (arrival, answer) => {
        if (!answer) return 'forward';
        const path = pathOf(arrival);
        let body: unknown;
        try {
          body = JSON.parse(answer.body);
        } catch {
          body = answer.body;
        }
        if (answer.status === 200 && (path === '/api/admin/api-key' || path === '/__conformance/api-key') && arrival.method === 'POST') {
          lastRawKey = (body as { rawKey?: string }).rawKey ?? lastRawKey;
        }
        if (answer.status === 200 && path === '/api/admin/api-key' && arrival.method === 'GET' && Array.isArray(body) && lastRawKey) {
          body = body.map((k: Record<string, unknown>) => ({ ...k, rawKey: lastRawKey, note: `your key is ${lastRawKey}` }));
          return { ...answer, body: JSON.stringify(body) };
        }
        if (answer.status >= 400) {
          const echoed: Record<string, unknown> = { seenAuthorization: arrival.headers.authorization ?? null, seenBody: arrival.body, seenUrl: arrival.url };
          // `fields` on a non-Validation error breaks ERR-03, so this echo lands in a failure's transcript.
          if (path.startsWith('/api') && answer.status !== 400 && answer.status !== 401) echoed.fields = [{ field: 'echo', code: arrival.headers.authorization ?? '' }];
          const merged = body && typeof body === 'object' && !Array.isArray(body) ? { ...(body as object), ...echoed } : echoed;
          return {
            ...answer,
            headers: { ...answer.headers, 'content-type': 'application/json', 'x-echo-authorization': arrival.headers.authorization ?? '' },
            body: JSON.stringify(merged),
          };
        }
        return 'forward';
      }),
    );
    cleanups.push(() => echo.close());
    const out = await tempDir();
    const result = await runCli(['--base-url', echo.baseUrl, '--out', out, '--seed', '13', ...ALL_OUTPUT]);
    expect(result.code, result.stderr).toBe(1);
    const { report } = await readReports(out);
    const failed = report.checks.filter((c) => c.status === 'failed');
    // Raw keys in the listing: AK-02 (returned again) or AK-03 (listing shows raw keys).
    const failedRequirements = failed.flatMap((c) => c.failedRequirements ?? []);
    expect(failedRequirements.some((r) => r === 'AK-02' || r === 'AK-03'), failedRequirements.join()).toBe(true);
    expect(failedRequirements, 'the echo in error bodies').toContain('ERR-03');
    // The failures carry transcripts, in which the echoed credentials appear as fingerprints.
    const transcripts = JSON.stringify(failed.map((c) => c.transcript ?? []));
    expect(transcripts).toMatch(FINGERPRINT);
    expect(transcripts).toMatch(/ek_live_…\(len=\d+, sha256:[0-9a-f]{8}\)/);
    expect(transcripts).toMatch(/seenAuthorization/);
    const places = await everything(out, result);
    for (const name of ['report.md', 'report.html', 'junit.xml']) expect(places[name], name).toMatch(/ek_live_…\(len=\d+, sha256:[0-9a-f]{8}\)/);
    expect(leaks(places, backend.issued)).toEqual([]);
  });
});

describe('the leak detector used above', () => {
  it('finds a raw secret, a truncated one, and anything secret-shaped, but not a fingerprint', () => {
    const key = 'ek_live_Zx9rT4mQ2vL8pW3nK7bY1cF6hJ0sD5gA2eR4tU8iO1q';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmUtc2ln';
    expect(leakOf(key, `x ${key} y`)).toBe(key);
    expect(leakOf(key, `x ${key.slice(0, 30)} y`)).not.toBeNull();
    expect(leakOf(jwt, `Bearer ${jwt.slice(0, -3)}`)).not.toBeNull();
    expect(leakOf(key, 'Bearer ek_live_…(len=51, sha256:1a2b3c4d)')).toBeNull();
    expect(secretShapedIn(`a ${key} b ek_live_…(len=51, sha256:1a2b3c4d) c ${jwt}`)).toHaveLength(2);
    expect(secretShapedIn('ekso_rt_abcdefghijklmnopqrstuvwxyz')).toHaveLength(1);
  });
});
