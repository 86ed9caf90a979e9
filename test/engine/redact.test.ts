/**
 * The redactor (H-01): registered secrets, secret-shaped text and secret-named fields come out as
 * fingerprints — also when a message quotes a body cut short, which no longer matches either the
 * registered secret or the complete JWT shape.
 */
import { describe, expect, it } from 'vitest';
import { Redactor, fingerprint } from '../../src/engine/redact.js';

const jwt = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhZG1pbiIsImNsaWVudF9pZCI6ImVrc28tY2xpIn0.c2lnbmF0dXJlLXZhbHVlLWhlcmU';
const refresh = 'ekso_rt_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0';

describe('Redactor', () => {
  it('replaces a registered secret by its fingerprint, also URL-encoded', () => {
    const r = new Redactor();
    r.add('s3cr3t+value/with=chars');
    expect(r.text('a s3cr3t+value/with=chars b')).toBe(`a ${fingerprint('s3cr3t+value/with=chars')} b`);
    expect(r.text(`x=${encodeURIComponent('s3cr3t+value/with=chars')}`)).toBe(`x=${fingerprint('s3cr3t+value/with=chars')}`);
  });

  it('fingerprints unregistered JWTs, ek_live_ keys and Ekso handles by their shape', () => {
    const r = new Redactor();
    const out = r.text(`${jwt} ek_live_abcdefghijklmnop ${refresh}`);
    expect(out).not.toContain('eyJhbGci');
    expect(out).not.toContain('abcdefghijklmnop');
    expect(out).not.toContain('Zm9vYmFy');
  });

  it('fingerprints the head of a JWT cut short by a clip (one dot, or none)', () => {
    const r = new Redactor();
    r.add(jwt);
    const clipped = `200 {"token":"${jwt.slice(0, 60)}…`;
    expect(r.text(clipped)).not.toContain(jwt.slice(10, 60));
    expect(r.text(jwt.slice(0, 30))).not.toContain(jwt.slice(5, 30));
  });

  it('fingerprints secret-named JSON fields quoted in text, even without the closing quote', () => {
    const r = new Redactor();
    const body = JSON.stringify({ token_type: 'Bearer', refresh_token: 'opaque-refresh-value-1234', password: 'hunter2hunter2' });
    const out = r.text(body);
    expect(out).not.toContain('opaque-refresh-value-1234');
    expect(out).not.toContain('hunter2hunter2');
    expect(out).toContain('"token_type":"Bearer"');
    const cut = r.text('{"refresh_token":"opaque-refresh-va');
    expect(cut).not.toContain('opaque-refresh-va');
  });

  it('leaves ordinary text and fingerprints alone (redaction is idempotent)', () => {
    const r = new Redactor();
    r.add(jwt);
    const once = r.text(`{"access_token":"${jwt}","expires_in":300}`);
    expect(r.text(once)).toBe(once);
    expect(once).toContain('"expires_in":300');
    expect(r.text('the family was revoked after a replay')).toBe('the family was revoked after a replay');
  });
});
