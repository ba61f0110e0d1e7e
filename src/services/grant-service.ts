import { AppError } from '../domain/errors.js';
import type { Grant, GrantStatus } from '../domain/grant.js';
import { audienceKeysOf, mayRevokeGrant, maySeeGrant } from '../domain/grant-access.js';
import { endOf } from '../domain/grant-end.js';
import { grantBounds, grantCovers, grantStatus, scopeValues } from '../domain/grant.js';
import type { Principal } from '../domain/identity.js';
import type { CompiledPolicy, Decision, EvaluationInput } from '../domain/policy-types.js';
import type { Clock } from '../ports/clock.js';
import type { GrantStore } from '../ports/grant-store.js';
import type { PolicyService } from './policy-service.js';

export type GrantView = Grant & { status: GrantStatus };

/** A decision a grant turned into an allow, and the use to record with the action. */
export interface Covered {
  decision: Decision;
  use: { grantId: string; expectedUses: number; nowMs: number };
}

export interface GrantService {
  /** For a review: the first usable grant that covers it, as an allow naming it. */
  cover(policy: CompiledPolicy, input: EvaluationInput, d: Decision): Promise<Covered | undefined>;
  /** The facts a grant given with this action's approval would pin (set on the record before insert). */
  scopeFor(d: Decision, input: EvaluationInput): Record<string, unknown> | undefined;
  list(who: Principal, q: { limit: number; active?: boolean }): Promise<GrantView[]>;
  get(who: Principal, id: string): Promise<GrantView>;
  revoke(who: Principal, id: string, reason: string | undefined): Promise<GrantView>;
  /**
   * Records the end of grants that time or a policy change ended (grant.ended): run on
   * every scheduler tick, on every replica; the store writes each grant's entry once.
   * Uses and revocations record their ends themselves, in their own transactions.
   */
  sweep(): Promise<string[]>;
}

const SWEEP_BATCH = 500;
/** Most grants one listing reads to fill its page (see list). */
const LIST_READ_MAX = 5000;

function humanOnly(who: Principal): asserts who is Extract<Principal, { type: 'human' }> {
  if (who.type !== 'human') throw new AppError('FORBIDDEN', 'Grants are read and revoked by humans');
}

/** Standing grants: finding one that covers a review, and reading and revoking them. */
/**
 * `auditorGroups` (audit.readerGroups) read every grant. Other humans read only the grants
 * they may revoke (their grantors and the approvers of the rules they answer for), as the
 * console shows them: a grant names an agent, a target and what it may do unreviewed.
 * A grant a human may not read is GRANT_NOT_FOUND to them, so its existence is not told.
 */
export function createGrantService(deps: { store: GrantStore; policy: PolicyService; clock: Clock; auditorGroups: readonly string[] }): GrantService {
  const digestOf = (id: string) => deps.policy.current()?.ruleDigest(id);
  const view = (g: Grant): GrantView => ({ ...g, status: grantStatus(g, deps.clock.now().getTime(), digestOf) });

  return {
    async cover(policy, input, d) {
      if (d.outcome !== 'review') return undefined;
      const nowMs = deps.clock.now().getTime();
      const candidates = await deps.store.grantsFor(input.requester.id, input.action.target, nowMs);
      const g = candidates.find((c) => grantCovers(c, d, input, nowMs, (id) => policy.ruleDigest(id)));
      if (!g) return undefined;
      const use = g.uses + 1;
      return {
        decision: {
          ...d,
          outcome: 'allow',
          requirements: [],
          reason: `allowed by standing grant ${g.id} (use ${use} of ${g.maxUses}, granted by ${g.grantedBy.join(', ')}); without it: ${d.reason}`,
          grant: { id: g.id, use, policyOutcome: d.outcome },
        },
        use: { grantId: g.id, expectedUses: g.uses, nowMs },
      };
    },
    scopeFor(d, input) {
      const b = d.outcome === 'review' ? grantBounds(d.requirements) : undefined;
      return b ? scopeValues(input, b.scope) : undefined;
    },
    async list(who, q) {
      humanOnly(who);
      // The store reads only the grants that name this human or one of their groups, so
      // that grants of others, however many, never crowd theirs out; maySeeGrant stays
      // as the rule itself, should an index and the rule ever disagree.
      const auditor = who.groups.some((g) => deps.auditorGroups.includes(g));
      const nowMs = deps.clock.now().getTime();
      // What the store returns may still be left out here (a grant whose rule changed, not yet
      // swept; one written without its index rows): read more until the page is full.
      for (let want = q.limit; ; want = Math.min(want * 4, LIST_READ_MAX)) {
        const rows = await deps.store.listGrants({ limit: want, usableAt: q.active ? nowMs : undefined, audience: auditor ? undefined : audienceKeysOf(who) });
        const kept = rows
          .filter((g) => maySeeGrant(who, g, deps.auditorGroups))
          .map(view)
          .filter((g) => !q.active || g.status === 'active');
        if (kept.length >= q.limit || rows.length < want || want >= LIST_READ_MAX) return kept.slice(0, q.limit);
      }
    },
    async get(who, id) {
      humanOnly(who);
      const g = await deps.store.getGrant(id);
      if (!g || !maySeeGrant(who, g, deps.auditorGroups)) throw new AppError('GRANT_NOT_FOUND', `No grant ${id}`);
      return view(g);
    },
    async sweep() {
      const open = await deps.store.openGrants(SWEEP_BATCH);
      const policy = deps.policy.current();
      const nowMs = deps.clock.now().getTime();
      const ends = open.map((g) => endOf(g, nowMs, policy && { version: policy.version, digestOf: (r) => policy.ruleDigest(r) })).filter((e) => e !== undefined);
      return deps.store.endGrants(ends);
    },
    async revoke(who, id, reason) {
      humanOnly(who);
      const g = await deps.store.getGrant(id);
      if (!g || !maySeeGrant(who, g, deps.auditorGroups)) throw new AppError('GRANT_NOT_FOUND', `No grant ${id}`);
      // Auditors read every grant but revoke none of their own standing.
      if (!mayRevokeGrant(who, g)) throw new AppError('NOT_ELIGIBLE', 'Only its grantors and the approvers of its rules may revoke a grant');
      const r = await deps.store.revokeGrant(id, who.id, reason, deps.clock.now().toISOString());
      if (r === 'not-found') throw new AppError('GRANT_NOT_FOUND', `No grant ${id}`);
      if (r === 'inactive') throw new AppError('GRANT_INACTIVE', `Grant ${id} is already revoked`);
      return view(r);
    },
  };
}
