/**
 * The SDK-mode model server identifies the refreshing client by `client_id` in the form, else by
 * the user name of HTTP Basic (RFC 6749 §2.3.1): an SDK that sends its client id that way (as
 * simple-oauth2 does by default) still rotates, so SDK-12 alone judges where the client id went
 * and SDK-04/SDK-11 are not blamed for the refusals that followed.
 */
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/engine/redact.js';
import { HarnessClock, ModelServer } from '../../src/targets/sdk/model-server.js';

function basic(user: string, password = ''): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(user)}:${password}`).toString('base64')}`;
}

describe('model server: who is refreshing', () => {
  const server = new ModelServer(new HarnessClock(), new Redactor());
  const refresh = (refreshToken: string, headers: Record<string, string>, form: Record<string, string> = {}) =>
    server.handle({
      method: 'POST',
      url: `${server.baseUrl}/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...form }).toString(),
    });

  it('a client id in HTTP Basic (no client_id in the form) rotates', async () => {
    const family = server.issueFamily('my-cli', 60_000);
    const answer = await refresh(family.refreshToken, { authorization: basic('my-cli') });
    expect(answer.status).toBe(200);
    expect(server.requests.at(-1)!.form?.client_id).toBeUndefined();
  });

  it('another client, in the form or in Basic, is refused', async () => {
    const family = server.issueFamily('my-cli', 60_000);
    expect((await refresh(family.refreshToken, { authorization: basic('other') })).status).toBe(400);
    const again = server.issueFamily('my-cli', 60_000);
    expect((await refresh(again.refreshToken, {}, { client_id: 'other' })).status).toBe(400);
  });

  it('expires_in never overstates the lifetime', async () => {
    const family = server.issueFamily('my-cli', 4_600);
    const answer = await refresh(family.refreshToken, {}, { client_id: 'my-cli' });
    expect(JSON.parse(answer.body).expires_in).toBe(4);
  });
});
