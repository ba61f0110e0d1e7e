import { HUMAN_ID } from './identity.js';

/** Who a console sign-in is, from the ID token's claims. */
export interface ConsoleHuman {
  id: string;
  /** False: the claim names no configured human; the console shows an empty, read-only view. */
  known: boolean;
  groups: string[];
}

export interface ConsoleIdentityRules {
  emailClaim: string;
  groupsClaim: string;
  requireVerifiedEmail: boolean;
  /** Claim value (any case) → configured human id. */
  mapping: Readonly<Record<string, string>>;
  humans: ReadonlyArray<{ id: string; groups: readonly string[] }>;
}

const GROUP = /^[\x21-\x7e]{1,256}$/;
const MAX_GROUPS = 512;

/**
 * The human a verified ID token names: the configured human whose id equals the claim
 * (case-insensitively), or the one `mapping` names for it. Groups are the configured
 * ones and the token's, merged; an unknown user gets no groups at all, so nothing can
 * be decided and nothing but their own actions shown. Refusals say why, for the page.
 */
export function consoleIdentity(claims: Readonly<Record<string, unknown>>, rules: ConsoleIdentityRules): { ok: true; human: ConsoleHuman } | { ok: false; reason: string } {
  const value = claims[rules.emailClaim];
  if (typeof value !== 'string' || !HUMAN_ID.test(value)) return { ok: false, reason: `The identity provider's ${rules.emailClaim} claim is missing or not printable ASCII.` };
  if (rules.requireVerifiedEmail && rules.emailClaim === 'email' && claims.email_verified !== true) {
    return { ok: false, reason: 'The identity provider does not vouch for this email address (email_verified is not true).' };
  }
  const claimed = value.toLowerCase();
  const mapped = Object.entries(rules.mapping).find(([k]) => k.toLowerCase() === claimed)?.[1]?.toLowerCase() ?? claimed;
  const configured = rules.humans.find((h) => h.id.toLowerCase() === mapped);
  if (!configured) return { ok: true, human: { id: claimed, known: false, groups: [] } };
  const fromToken = claims[rules.groupsClaim];
  const tokenGroups = Array.isArray(fromToken) ? fromToken.filter((g): g is string => typeof g === 'string' && GROUP.test(g)).slice(0, MAX_GROUPS) : [];
  return { ok: true, human: { id: configured.id.toLowerCase(), known: true, groups: [...new Set([...configured.groups, ...tokenGroups])] } };
}
