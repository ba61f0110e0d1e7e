import type { ActionRecord } from '../../../domain/action-record.js';
import type { AuditDraft } from '../../../domain/audit-entry.js';
import type { Grant } from '../../../domain/grant.js';
import type { GrantEnd } from '../../../domain/grant-end.js';
import { grantEndedEntry } from '../../../domain/grant-end.js';
import type { DecisionChecks } from '../../../ports/history-store.js';
import type { InsertResult } from '../../../ports/store.js';
import { instantOf } from '../store-error.js';
import type { ActionsTable } from './sqlite-actions.js';
import type { AuditTable } from './sqlite-audit.js';
import type { HistoryTables } from './sqlite-history.js';
import type { ActionFacts, ActionInsert, PackedAction } from './sqlite-packed-action.js';
import { unpackAction } from './sqlite-packed-action.js';

type InsertOp = (a: ActionInsert) => { inserted: true; auditSeqs: number[] } | Extract<InsertResult, { inserted: false }>;
type UpdateOp = (args: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[] }) => number[] | false;

/** The write operations of standing grants; they join the registry in sqlite-write-ops.ts. */
export function createGrantWriteOps(t: { history: HistoryTables; audit: AuditTable; actions: ActionsTable }, insertAction: InsertOp, updateAction: UpdateOp, hold: (a: ActionFacts) => void) {
  /** The use that leaves a grant none ends it, with its entry, in the same transaction. */
  function endIfUsedUp(grantId: string, at: string): void {
    const g = t.history.endGrant(grantId, { reason: 'used-up', at }, 'used-up');
    if (g) t.audit.appendEntries([grantEndedEntry(g, { reason: 'used-up', at })]);
  }
  return {
    /** A decided action, written only if its counter reads still hold and its grant can be used (ports/history-store.ts DecidedActionStore). */
    insertDecided(a: {
      action: PackedAction;
      checks: DecisionChecks;
    }): ReturnType<InsertOp> | { inserted: false; grantUnavailable: true } | { inserted: false; historyChanged: true } {
      const action = unpackAction(a.action);
      const facts = action.facts;
      if (facts.idempotencyKey !== undefined) {
        const existing = t.actions.byIdempotencyKey(facts.requester.id, facts.idempotencyKey);
        if (existing) return { inserted: false, existing };
      }
      // Inside BEGIN IMMEDIATE: another process (countersign mcp) on the same file cannot write hits until this commits.
      if (a.checks.reads?.length && !t.history.countersHold(a.checks.reads)) return { inserted: false, historyChanged: true };
      const use = a.checks.use;
      if (use && !t.history.useGrant(use.grantId, use.expectedUses, use.nowMs)) return { inserted: false, grantUnavailable: true };
      const r = insertAction(action);
      if (r.inserted && a.checks.held) hold(facts);
      if (r.inserted && use) endIfUsedUp(use.grantId, facts.createdAt);
      return r;
    },
    updateWithGrant(a: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[]; grant: Grant }): number[] | false {
      const seqs = updateAction(a);
      if (seqs !== false) t.history.insertGrant(a.grant);
      return seqs;
    },
    insertWithGrant(a: {
      action: PackedAction;
      use: { grantId: string; expectedUses: number; nowMs: number };
    }): ReturnType<InsertOp> | { inserted: false; grantUnavailable: true } {
      const action = unpackAction(a.action);
      const facts = action.facts;
      // An idempotent repeat uses nothing: checked before the grant is touched.
      if (facts.idempotencyKey !== undefined) {
        const existing = t.actions.byIdempotencyKey(facts.requester.id, facts.idempotencyKey);
        if (existing) return { inserted: false, existing };
      }
      if (!t.history.useGrant(a.use.grantId, a.use.expectedUses, a.use.nowMs)) return { inserted: false, grantUnavailable: true };
      const r = insertAction(action);
      if (r.inserted) endIfUsedUp(a.use.grantId, facts.createdAt);
      return r;
    },
    revokeGrant(a: { id: string; by: string; reason?: string | undefined; at: string }): Grant | 'not-found' | 'inactive' {
      const g = t.history.grant(a.id);
      if (!g) return 'not-found';
      if (!t.history.revokeGrant(a.id, a.by, a.reason, instantOf(a.at, 'at'), a.at)) return 'inactive';
      t.audit.appendEntries([
        // No actionId: the entry belongs to the grant, not to a state change of the action that created it.
        { type: 'grant.revoked', ts: a.at, actor: { type: 'human', id: a.by }, data: { grant: g.id, action: g.actionId, ...(a.reason !== undefined ? { reason: a.reason } : {}), uses: g.uses } },
      ]);
      const ended = t.history.endGrant(a.id, { reason: 'revoked', at: a.at });
      if (ended) t.audit.appendEntries([grantEndedEntry(ended, { reason: 'revoked', at: a.at })]);
      return t.history.grant(a.id)!;
    },
    /** GrantStore.endGrants: each grant not yet ended, with its entry. */
    endGrants(a: { ends: readonly GrantEnd[] }): string[] {
      const out: string[] = [];
      for (const e of a.ends) {
        const g = t.history.endGrant(e.id, e, e.reason === 'expired' || e.reason === 'used-up' ? e.reason : undefined);
        if (!g) continue;
        t.audit.appendEntries([grantEndedEntry(g, e)]);
        out.push(g.id);
      }
      return out;
    },
  };
}
