/**
 * A family's age is its age on the target's clock (issue 9, point 1): the model starts a family at
 * its issue time, spares go stale when the clock moves, and a source that says it cannot hands
 * over to the next configured one — never to a source the user did not name.
 */
import { describe, expect, it } from 'vitest';
import { Skip } from '../../src/engine/outcomes.js';
import { STRICT } from '../../src/model/policy.js';
import { TokenFamiliesModel } from '../../src/model/token-families.js';
import type { Marker, UserRole } from '../../src/targets/backend/driver.js';
import { TokenSources, type TokenPair, type TokenSource } from '../../src/targets/backend/token-sources.js';

const DAY = 86_400_000;
const IDLE = 7 * DAY;

describe('the model of token families starts a family at its issue time', () => {
  it('a family issued before the idle window ran out is dead at its first refresh', () => {
    const now = Date.parse('2030-01-10T00:00:00Z');
    const model = new TokenFamiliesModel(STRICT, now, IDLE);
    const family = model.addFamily('Cli', 'ekso-cli', 300_000, { at: now - 8 * DAY, uncertaintyMs: 0 });
    const prediction = model.predictRefresh(family.id, 0, 'ekso-cli');
    expect(prediction.allowed).toEqual(['rejected']);
    expect(prediction.kind).toBe('idle-expired');
    expect(model.predictAccess(family.id, 0).allowed).toEqual(['rejected']);
  });

  it('its first access token expires from its issue time', () => {
    const now = 1_000_000_000_000;
    const model = new TokenFamiliesModel(STRICT, now, IDLE);
    const family = model.addFamily('Web', 'ekso-web', 300_000, { at: now - 400_000, uncertaintyMs: 0 });
    expect(model.predictAccess(family.id, 0)).toMatchObject({ allowed: ['rejected'], requirement: 'RT-02' });
  });

  it('an uncertain issue time widens the undetermined band instead of predicting what cannot be known', () => {
    const now = 1_000_000_000_000;
    const model = new TokenFamiliesModel(STRICT, now, 60_000);
    // Obtained by a command that took 20 s: issued somewhere in [now - 50 s, now - 30 s].
    const family = model.addFamily('Cli', 'ekso-cli', 40_000, { at: now - 30_000, uncertaintyMs: 20_000 });
    model.advance(20_000); // 50 … 70 s idle: the window (60 s ± 5 s) may or may not be over
    expect(model.predictRefresh(family.id, 0, 'ekso-cli').allowed).toEqual(['rotated', 'rejected']);
    // Access token: expires 10 … 30 s ago → at the edge, not "surely accepted".
    const model2 = new TokenFamiliesModel(STRICT, now, IDLE);
    const f2 = model2.addFamily('Cli', 'ekso-cli', 40_000, { at: now - 30_000, uncertaintyMs: 20_000 });
    expect(model2.predictAccess(f2.id, 0).allowed).toEqual(['accepted', 'rejected']);
  });

  it('a family from the future is a bug of the caller', () => {
    const model = new TokenFamiliesModel(STRICT, 1_000, IDLE);
    expect(() => model.addFamily('Cli', 'ekso-cli', 1_000, { at: 2_000, uncertaintyMs: 0 })).toThrow(/future/);
  });
});

/** A source that counts its families and can be told it cannot make some kinds. */
class FakeSource implements TokenSource {
  made = 0;
  constructor(
    readonly name: string,
    readonly cannot: ReadonlySet<Marker> = new Set(),
    private readonly said = new Set<Marker>(),
  ) {}
  unavailable(marker: Marker): string | null {
    return this.said.has(marker) ? `${this.name} cannot make ${marker}` : null;
  }
  async newFamily(marker: Marker, user: UserRole): Promise<TokenPair> {
    if (this.cannot.has(marker)) {
      this.said.add(marker);
      throw new Skip(`${this.name} cannot make ${marker}`);
    }
    this.made += 1;
    const at = Date.now();
    return { accessToken: `${this.name}-a${this.made}`, refreshToken: `${this.name}-r${this.made}`, expiresIn: 300, obtainedAt: at, requestedAt: at - 5, issuedAt: at, issueUncertaintyMs: 5, marker, user, clientId: 'ekso-cli' };
  }
}

function clock(offsetMs = 0) {
  const c = { offset: offsetMs, clockMoves: 0, targetNow: () => Date.now() + c.offset };
  return c;
}

describe('token sources', () => {
  it('stamp each family with its issue time on the target clock', async () => {
    const sources = new TokenSources({ hooks: new FakeSource('hooks') });
    sources.clock = clock(5 * DAY);
    const pair = await sources.newFamily('Cli', 'admin');
    expect(pair.issuedAt - Date.now()).toBeGreaterThan(5 * DAY - 1_000);
    expect(pair.issueUncertaintyMs).toBe(5);
  });

  it('hand out a spare only while the clock has not moved since it was obtained', async () => {
    const hooks = new FakeSource('hooks');
    const sources = new TokenSources({ hooks });
    const target = clock();
    sources.clock = target;
    const spare = await sources.newFamily('Cli', 'admin');
    sources.keep(spare);
    expect((await sources.newFamily('Cli', 'admin')).refreshToken).toBe(spare.refreshToken);
    sources.keep(spare);
    target.clockMoves += 1;
    target.offset += 8 * DAY;
    const fresh = await sources.newFamily('Cli', 'admin');
    expect(fresh.refreshToken).not.toBe(spare.refreshToken);
    expect(hooks.made).toBe(2);
  });

  it('drop a spare that has grown old in real time', async () => {
    const hooks = new FakeSource('hooks');
    const sources = new TokenSources({ hooks }, 10_000);
    const target = clock();
    sources.clock = target;
    const spare = await sources.newFamily('Web', 'admin');
    sources.keep(spare);
    target.offset += 11_000;
    expect((await sources.newFamily('Web', 'admin')).refreshToken).not.toBe(spare.refreshToken);
  });

  it('hand over to the next configured source when one says it cannot (device flow → token command)', async () => {
    const device = new FakeSource('device', new Set(['Cli']));
    const command = new FakeSource('command');
    const sources = new TokenSources({ device, command, hooks: new FakeSource('hooks') });
    expect((await sources.newFamily('Cli', 'admin')).accessToken).toMatch(/^command-/);
  });

  it('never make families with the test hooks when the user named a source (Choice)', async () => {
    const hooks = new FakeSource('hooks');
    const sources = new TokenSources({ command: new FakeSource('command', new Set(['Web'])), hooks });
    await expect(sources.newFamily('Web', 'admin')).rejects.toThrow(/no source of Web token families.*test hooks make families only when neither/);
    expect(hooks.made).toBe(0);
    expect(sources.problem('Web', 'admin')?.verdict).toBe('skip');
  });

  it('report a failed source as inconclusive, naming it, and a DF deviation as a skip', () => {
    const sources = new TokenSources({ device: new FakeSource('device'), command: new FakeSource('command') });
    sources.fail('device', 'Cli', 'admin', { reason: 'device authorization answered 200 (DF-01)', verdict: 'skip' });
    expect(sources.pickName('Cli', 'admin')).toBe('command');
    sources.fail('command', 'Cli', 'admin', { reason: '--token-command exited 7', verdict: 'inconclusive' });
    expect(sources.problem('Cli', 'admin')).toMatchObject({ verdict: 'inconclusive', reason: expect.stringMatching(/DF-01.*--token-command exited 7/) });
  });
});
