/**
 * Conformant variants of the reference backend: each takes another road the requirements allow
 * (where the reference made a choice), so that the harness is proven not to mistake a legitimate
 * alternative for a violation. They break nothing (`breaks: []`); the suite runs the harness
 * against each and requires no failure.
 */
import { ReferenceBackend, type TokenOutcome, type TokenPair } from '../../reference/backend/index.js';
import type { BackendMutant } from '../registry.js';
import { sha256Hex, subclassMutant } from './support.js';

/**
 * Under `grace=<s>`, a retry of the immediately previous refresh token inside the window gets the
 * pair its first presentation already received (an idempotent retry: nothing new is issued), as
 * long as that successor is still the family's current token. The reference instead issues a
 * fresh pair and discards the first successor; both leave a single live successor (RT-07).
 */
class GraceRetryReturnsIssuedPair extends ReferenceBackend {
  private readonly issued = new Map<string, { pair: TokenPair; at: number; successorHash: string }>();

  protected override async rotateRefreshToken(presented: string, clientId: string): Promise<TokenOutcome> {
    const hash = sha256Hex(presented);
    const prior = this.issued.get(hash);
    if (prior && this.graceWindowMs() > 0) {
      const token = await this.store.getRefreshToken(hash);
      const family = token && (await this.store.getFamily(token.familyId));
      const now = this.clock.now();
      const retry = family && family.revokedAt === null && this.isClientBound(family, clientId) && family.currentHash === prior.successorHash;
      if (retry && now - prior.at <= this.graceWindowMs()) return { ok: true, pair: prior.pair };
    }
    const outcome = await super.rotateRefreshToken(presented, clientId);
    if (outcome.ok) this.issued.set(hash, { pair: outcome.pair, at: this.clock.now(), successorHash: sha256Hex(outcome.pair.refresh_token) });
    return outcome;
  }
}

export const BACKEND_VARIANTS: readonly BackendMutant[] = [
  subclassMutant(
    {
      name: 'grace-retry-returns-issued-pair',
      description: 'Under grace, a retry of the previous refresh token inside the window returns the pair already issued for it (idempotent retry, no new token)',
      breaks: [],
      modelledOn: 'Okta / Auth0 refresh-token reuse intervals (a retry inside the window gets the current tokens back)',
      runWith: { policy: 'grace=30' },
    },
    GraceRetryReturnsIssuedPair,
  ),
];
