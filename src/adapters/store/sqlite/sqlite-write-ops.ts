import type { ActionRecord } from '../../../domain/action-record.js';
import type { AuditDraft, AuditEntry } from '../../../domain/audit-entry.js';
import { AppError } from '../../../domain/errors.js';
import type { ChatMessage, DeliveryAttempt, DeliveryOutcome, NewDelivery } from '../../../ports/channel-store.js';
import type { InsertResult } from '../../../ports/store.js';
import { instantOf } from '../store-error.js';
import type { ActionsTable } from './sqlite-actions.js';
import type { AuditTable } from './sqlite-audit.js';
import type { ChannelTables } from './sqlite-channels.js';

export interface WriteTables {
  actions: ActionsTable;
  audit: AuditTable;
  channels: ChannelTables;
}

/**
 * Every write the store makes, by name. Each runs inside the group-commit transaction
 * (in the writer thread), so arguments and results must be structured-cloneable data:
 * no functions, no class instances. Add a write here and call it with
 * `writer.submit(name, args)`.
 */
export function createWriteOps(t: WriteTables) {
  return {
    /** The inserted action is not sent back (the caller has it): `{inserted: true}` only. */
    insertAction({ action, drafts }: { action: ActionRecord; drafts: readonly AuditDraft[] }): { inserted: true } | Extract<InsertResult, { inserted: false }> {
      if (action.version !== 1) throw new AppError('INTERNAL', `a new action has version 1, not ${action.version}`);
      if (action.idempotencyKey !== undefined) {
        // Checked inside the transaction: a repeat in the same batch sees the first insert.
        const existing = t.actions.byIdempotencyKey(action.requester.id, action.idempotencyKey);
        if (existing) return { inserted: false, existing };
      }
      t.actions.insert(action);
      t.audit.appendEntries(drafts);
      return { inserted: true };
    },
    updateAction({ next, expectedVersion, drafts }: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[] }): boolean {
      if (!Number.isSafeInteger(expectedVersion) || next.version !== expectedVersion + 1) {
        throw new AppError('INTERNAL', `an update from version ${expectedVersion} writes version ${expectedVersion + 1}, not ${next.version}`);
      }
      if (!t.actions.update(next, expectedVersion)) return false;
      t.audit.appendEntries(drafts);
      return true;
    },
    appendAudit({ drafts }: { drafts: readonly AuditDraft[] }): AuditEntry[] {
      return t.audit.appendEntries(drafts);
    },
    // Chat channels and webhooks (ports/channel-store.ts).
    startFeed({ feed, seq }: { feed: string; seq: number }): number {
      return t.channels.startFeed(feed, seq);
    },
    advanceFeed(a: { feed: string; from: number; to: number; deliveries: readonly NewDelivery[]; now: string }): boolean {
      return t.channels.advanceFeed(a.feed, a.from, a.to, a.deliveries, instantOf(a.now, 'now'));
    },
    claimDeliveries(a: { owner: string; now: string; leaseMs: number; limit: number; skip: readonly string[] }) {
      return t.channels.claimDue(a.owner, instantOf(a.now, 'now'), a.leaseMs, a.limit, a.skip);
    },
    finishDelivery(a: {
      id: number;
      owner: string;
      outcome: DeliveryOutcome;
      attempt: DeliveryAttempt;
      messages?: { actionId: string; channel: string; list: readonly ChatMessage[] } | undefined;
    }) {
      return t.channels.finish(a.id, a.owner, a.outcome, a.attempt, a.messages);
    },
    rememberInteraction(a: { key: string; now: string; forgetBefore: string }): boolean {
      return t.channels.rememberInteraction(a.key, instantOf(a.now, 'now'), instantOf(a.forgetBefore, 'forgetBefore'));
    },
  };
}

export type WriteOps = ReturnType<typeof createWriteOps>;
export type WriteOpName = keyof WriteOps;
export type WriteArgs<K extends WriteOpName> = Parameters<WriteOps[K]>[0];
export type WriteResult<K extends WriteOpName> = ReturnType<WriteOps[K]>;
