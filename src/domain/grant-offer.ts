import type { ActionRecord } from './action-record.js';
import { formatDuration, parseDuration } from './duration.js';
import { AppError } from './errors.js';
import type { GrantAsk } from './grant.js';
import { grantBounds, grantText } from './grant.js';

/**
 * What a review surface offers next to Approve when the policy allows a standing grant
 * on this action: the scope in plain words and the bounds, so the reviewer sees exactly
 * what "Approve + grant" would cover before confirming. The review service checks the
 * ask again (bounds, quorum, separation of duties): this is only what is shown.
 */
export interface GrantOffer {
  /** e.g. `http actions of deploy-bot on github that rule deploys would send to review, with http.method = "POST": up to 3 more, until at most 1h after approval` */
  scope: string;
  maxTtlMs: number;
  /** maxTtlMs as written in policies (`1h`). */
  maxTtl: string;
  maxUses: number;
  /** Path patterns every rule that pins http.path lets reviewers widen to (`grants.paths`); empty: the exact path only. */
  paths: string[];
}

/** The patterns allowed by every rule that pins http.path (the intersection of their `grants.paths`). */
function widenable(pathLimits: readonly string[][]): string[] {
  if (pathLimits.length === 0) return [];
  return pathLimits.reduce((x, y) => x.filter((p) => y.includes(p)));
}

export function grantOffer(a: ActionRecord): GrantOffer | undefined {
  if (a.status !== 'pending' || !a.review || !a.grantScope) return undefined;
  const b = grantBounds(a.review.requirements);
  if (!b) return undefined;
  // The same words as the API's `grantable.text` and the CLI's confirmation.
  const scope = grantText({
    kind: a.kind,
    agent: a.requester.id,
    target: a.target,
    ruleIds: a.review.requirements.map((r) => r.ruleId),
    scope: a.grantScope,
    maxUses: b.maxUses,
    expiresAt: `at most ${formatDuration(b.maxTtlMs)} after approval`,
  });
  return { scope, maxTtlMs: b.maxTtlMs, maxTtl: formatDuration(b.maxTtlMs), maxUses: b.maxUses, paths: widenable(b.pathLimits) };
}

/** The scope in words with, where the policy allows it, the path patterns approvers may widen to (the API's `grantable.text`). */
export function grantOfferText(o: GrantOffer): string {
  return o.paths.length ? `${o.scope}; approvers may widen the path to ${o.paths.join(' or ')} (each * is any one path segment)` : o.scope;
}

/** The offer's bounds in one line, for a message or card. */
export function grantOfferBounds(o: GrantOffer): string {
  return `The policy allows at most ${o.maxTtl} and ${o.maxUses} use${o.maxUses === 1 ? '' : 's'} (this approval is not one of them).`;
}

/** A grant ask as typed in a chat form (`30m`, `5`): malformed input is VALIDATION_FAILED; bounds are the review service's to check. */
export function parseGrantAsk(ttl: unknown, uses: unknown): GrantAsk {
  const t = typeof ttl === 'string' ? ttl.trim() : '';
  if (!t) throw new AppError('VALIDATION_FAILED', 'grant: give a duration (e.g. 30m, 1h)');
  const ttlMs = parseDuration(t);
  const u = typeof uses === 'number' ? uses : typeof uses === 'string' && /^\s*\d{1,9}\s*$/.test(uses) ? Number(uses) : NaN;
  if (!Number.isSafeInteger(u)) throw new AppError('VALIDATION_FAILED', 'grant: give a whole number of uses');
  return { ttlMs, uses: u };
}
