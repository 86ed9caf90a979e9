/**
 * Refresh-token reuse policies (REQUIREMENTS "Policy"). Verdicts are always relative to the
 * declared policy: `strict` is Ekso's (single use, no grace, family revoked on replay);
 * `grace=<s>` also accepts the immediately previous token for s seconds after it was rotated.
 */
export type Policy = { readonly kind: 'strict' } | { readonly kind: 'grace'; readonly seconds: number };

export const STRICT: Policy = { kind: 'strict' };

export function parsePolicy(text: string): Policy | null {
  const trimmed = text.trim();
  if (trimmed === 'strict') return STRICT;
  const grace = /^grace=(\d+(?:\.\d+)?)$/.exec(trimmed);
  if (grace) return { kind: 'grace', seconds: Number(grace[1]) };
  return null;
}

export function policyName(policy: Policy): string {
  return policy.kind === 'strict' ? 'strict' : `grace=${policy.seconds}`;
}
