/** The target's log tail: whole lines, the last 40, redacted (H-01). */
import { describe, expect, it } from 'vitest';
import { LogTail, redactLogLine, registerTargetSecrets, TAIL_LINES } from '../../src/targets/launch.js';
import { Redactor } from '../../src/engine/redact.js';

describe('LogTail', () => {
  it('keeps lines whole across chunks, drops blank ones, keeps the last 40', () => {
    const log = new LogTail(new Redactor());
    log.push('first li');
    log.push(Buffer.from('ne\r\n\n  \nsecond'));
    expect(log.tail()).toEqual(['first line', 'second']);
    for (let i = 0; i < 500; i += 1) log.push(`line ${i}\n`);
    expect(log.tail()).toHaveLength(TAIL_LINES);
    expect(log.tail().at(-1)).toBe('line 499');
    expect(log.tail(3)).toEqual(['line 497', 'line 498', 'line 499']);
  });
});

describe('redaction of target output', () => {
  const redactor = new Redactor();

  it('fingerprints values of secret-named assignments, keys and JWTs', () => {
    const out = redactLogLine('DB_PASSWORD=hunter2hunter2 api_key: "abcdefgh12345678" ek_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345 token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl', redactor);
    expect(out).not.toContain('hunter2hunter2');
    expect(out).not.toContain('abcdefgh12345678');
    expect(out).not.toContain('ek_live_ABCDEFGHIJKLMNOPQRSTUVWXYZ012345');
    expect(out).not.toContain('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0');
    expect(out).toMatch(/^DB_PASSWORD=hun…\(len=14, sha256:[0-9a-f]{8}\) api_key: "abc…\(len=16, sha256:[0-9a-f]{8}\)"/);
  });

  it('leaves ordinary lines and names that only mention a secret alone', () => {
    for (const line of [
      'listening on http://127.0.0.1:7070',
      'token_endpoint=http://127.0.0.1:7070/token',
      'API_KEY_FILE=/run/secrets/api-key-file',
      'refresh token rotated for family 42',
      'auth: ok (3 ms)',
    ]) {
      expect(redactLogLine(line, redactor)).toBe(line);
    }
  });

  it('registers secrets written into --server-cmd and --image-env, so that they are redacted everywhere', () => {
    const r = new Redactor();
    registerTargetSecrets({ serverCmd: 'DB_PASSWORD=correct-horse-battery JWT_SECRET="s3cr3t-s3cr3t" PORT=8080 npm start', imageEnv: { ADMIN_TOKEN: 'tok-123456789', LOG_LEVEL: 'debug-verbose' } }, r);
    expect(r.has('correct-horse-battery')).toBe(true);
    expect(r.has('s3cr3t-s3cr3t')).toBe(true);
    expect(r.has('tok-123456789')).toBe(true);
    expect(r.has('8080')).toBe(false);
    expect(r.has('debug-verbose')).toBe(false);
    expect(r.text('started with correct-horse-battery')).not.toContain('correct-horse-battery');
  });
});
