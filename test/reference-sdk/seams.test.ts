/**
 * The mutant seams: overriding ONE protected method of the reference SDK produces each named bug
 * of anchors.md §10, and the behaviour tests notice. (The mutants themselves live elsewhere;
 * this only proves the seams exist and are sufficient.)
 */
import { describe, expect, it } from 'vitest';
import {
  EksoApiException,
  EksoClient,
  type EksoException,
  type EksoResponse,
  type Credential,
  type PendingCall,
  MemoryTokenStore,
  RefreshableBearerAuth,
  type RefreshFailure,
  type TokenPair,
  type TokenStoreKey,
  type TokensRefreshedEvent,
  type RefreshableBearerAuthOptions,
} from '../../src/reference/sdk/index.js';
import { FakeEkso, settle } from './fake-ekso.js';

function build(Auth: new (o: RefreshableBearerAuthOptions) => RefreshableBearerAuth, Client: typeof EksoClient = EksoClient, lifetimeMs = 1_000) {
  const fake = new FakeEkso();
  const pair = fake.issue(lifetimeMs);
  const auth = new Auth({ ...pair, tokenEndpoint: fake.tokenEndpoint, clientId: 'ekso-sdk', fetch: fake.fetch, now: fake.now });
  const events: TokensRefreshedEvent[] = [];
  auth.onTokensRefreshed((e) => void events.push(e));
  const client = new Client({ tenant: 'acme', auth, fetch: fake.fetch, now: fake.now });
  return { fake, pair, auth, client, events };
}

describe('mutant seams', () => {
  it('refresh(): without single flight, concurrent calls each refresh and replay the token', async () => {
    class NoSingleFlight extends RefreshableBearerAuth {
      protected override refresh(): Promise<void> {
        return this.refreshOnce();
      }
    }
    const { fake, client } = build(NoSingleFlight);
    fake.advance(5_000);
    const release = fake.holdTokens();
    const calls = Array.from({ length: 4 }, () => client.request('GET', '/api/field').catch((e: unknown) => e));
    await settle();
    release();
    await Promise.all(calls);
    expect(fake.tokenRequests.length).toBe(4);
  });

  it('emitTokensRefreshed(): no event, or the stale pair', async () => {
    class NoEvent extends RefreshableBearerAuth {
      protected override async emitTokensRefreshed(): Promise<void> {}
    }
    class StaleEvent extends RefreshableBearerAuth {
      protected override emitTokensRefreshed(_event: TokensRefreshedEvent, previous: TokenPair): Promise<void> {
        return super.emitTokensRefreshed(previous, previous);
      }
    }
    const a = build(NoEvent);
    a.fake.advance(5_000);
    await a.client.request('GET', '/api/field');
    expect(a.events).toHaveLength(0);
    const b = build(StaleEvent);
    b.fake.advance(5_000);
    await b.client.request('GET', '/api/field');
    expect(b.events[0]!.refreshToken).toBe(b.pair.refreshToken);
  });

  it('shouldRefresh(): no proactive refresh sends the expired token', async () => {
    class NoProactive extends RefreshableBearerAuth {
      protected override shouldRefresh(): boolean {
        return false;
      }
    }
    const { fake, pair, client } = build(NoProactive);
    fake.advance(5_000);
    await client.request('GET', '/api/field');
    expect(fake.apiRequests[0]!.authorization).toBe(`Bearer ${pair.accessToken}`);
  });

  it('nextRefreshToken(): keeping the old refresh token replays it on the next refresh', async () => {
    class ReuseOld extends RefreshableBearerAuth {
      protected override nextRefreshToken(_issued: string | undefined, presented: string): string {
        return presented;
      }
    }
    const { fake, pair, client } = build(ReuseOld);
    fake.advance(5_000);
    await client.request('GET', '/api/field');
    fake.advance(400_000);
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect(fake.tokenRequests.map((r) => r.form.get('refresh_token'))).toEqual([pair.refreshToken, pair.refreshToken]);
    expect((e as EksoException).name).toBe('EksoAuthException');
  });

  it('refreshFailure(): treating invalid_grant as transient keeps refreshing a dead token', async () => {
    class NeverTerminal extends RefreshableBearerAuth {
      protected override refreshFailure(failure: Parameters<RefreshableBearerAuth['refreshFailure']>[0]): RefreshFailure {
        return { ...super.refreshFailure(failure), terminal: false };
      }
    }
    const { fake, client } = build(NeverTerminal);
    fake.advance(5_000);
    fake.tokenFailures.push('invalid_grant', 'invalid_grant');
    await client.request('GET', '/api/field').catch(() => undefined);
    await client.request('GET', '/api/field').catch(() => undefined);
    expect(fake.tokenRequests).toHaveLength(2);
  });

  it('handleUnauthorized(): a refresh loop on 401', async () => {
    class Loop extends EksoClient {
      protected override async handleUnauthorized(call: PendingCall, credential: Credential, response: EksoResponse): Promise<EksoResponse> {
        let current = credential;
        let res = response;
        for (let i = 0; i < 3 && res.status === 401; i++) {
          current = (await this.auth.renewAfterUnauthorized(current))!;
          res = await this.send(call, current);
        }
        return res;
      }
    }
    const { fake, client } = build(RefreshableBearerAuth, Loop, 300_000);
    fake.apiHandler = () => new Response('', { status: 401 });
    await client.request('GET', '/api/field').catch(() => undefined);
    expect(fake.tokenRequests.length).toBeGreaterThan(1);
  });

  it('mapError(): wrong exception mapping', async () => {
    class WrongMapping extends EksoClient {
      protected override mapError(response: EksoResponse): EksoException {
        return new EksoApiException(response.status, response.body, 'everything is an API error');
      }
    }
    const { fake, client } = build(RefreshableBearerAuth, WrongMapping, 300_000);
    fake.apiHandler = () => new Response('', { status: 429, headers: { 'retry-after': '1' } });
    const e = await client.request('GET', '/api/field').catch((x: unknown) => x);
    expect((e as Error).name).toBe('EksoApiException');
  });

  it('keyOf(): a lossy store key makes keys collide', async () => {
    class TenantOnly extends MemoryTokenStore {
      protected override keyOf(key: TokenStoreKey): string {
        return key.tenant;
      }
    }
    const store = new TenantOnly();
    await store.save({ tenant: 'acme', clientId: 'ekso-cli', environment: 'prod' }, { accessToken: 'a', refreshToken: 'r', expiresAt: 'x' });
    await store.save({ tenant: 'acme', clientId: 'ekso-cli', environment: 'dev' }, { accessToken: 'b', refreshToken: 's', expiresAt: 'y' });
    expect((await store.load({ tenant: 'acme', clientId: 'ekso-cli', environment: 'prod' }))!.accessToken).toBe('b');
  });
});
