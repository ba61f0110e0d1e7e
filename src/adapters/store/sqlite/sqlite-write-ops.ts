import type { ActionRecord } from '../../../domain/action-record.js';
import type { AuditDraft, AuditEntry } from '../../../domain/audit-entry.js';
import { AppError } from '../../../domain/errors.js';
import type { Delivery, DeliveryStatus, FinishedDelivery, NewDelivery } from '../../../ports/channel-store.js';
import type { InsertResult } from '../../../ports/store.js';
import { instantOf } from '../store-error.js';
import type { ActionsTable } from './sqlite-actions.js';
import type { ActionFacts, ActionInsert, PackedAction } from './sqlite-packed-action.js';
import { unpackAction } from './sqlite-packed-action.js';
import { createAgentWriteOps } from './sqlite-agent-ops.js';
import type { AgentTables } from './sqlite-agent-tables.js';
import type { AuditTable } from './sqlite-audit.js';
import type { AuditLogTable } from './sqlite-audit-log.js';
import type { ChannelTables } from './sqlite-channels.js';
import { createConsoleWriteOps } from './sqlite-console-ops.js';
import type { ConsoleTables } from './sqlite-console-tables.js';
import type { HistoryTables } from './sqlite-history.js';
import { createGrantWriteOps } from './sqlite-history-ops.js';

export interface WriteTables {
  actions: ActionsTable;
  audit: AuditTable;
  agent: AgentTables;
  channels: ChannelTables;
  auditLog: AuditLogTable;
  console: ConsoleTables;
  history: HistoryTables;
}

/** Sequence numbers the drafts will get, from `first` (read in this transaction). */
function seqsFrom(first: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => first + i);
}

/**
 * Every write the store makes, by name. Each runs inside the group-commit transaction
 * (in the writer thread), so arguments and results must be structured-cloneable data:
 * no functions, no class instances. Add a write here and call it with
 * `writer.submit(name, args)`.
 */
export function createWriteOps(t: WriteTables) {
  function insert(a: ActionInsert): { inserted: true; auditSeqs: number[] } | Extract<InsertResult, { inserted: false }> {
    const facts = a.facts;
    if (facts.version !== 1) throw new AppError('INTERNAL', `a new action has version 1, not ${facts.version}`);
    if (facts.idempotencyKey !== undefined) {
      // Checked inside the transaction: a repeat in the same batch sees the first insert.
      const existing = t.actions.byIdempotencyKey(facts.requester.id, facts.idempotencyKey);
      if (existing) return { inserted: false, existing };
    }
    const first = t.audit.nextSeq();
    const auditSeqs = seqsFrom(first, a.drafts.length);
    t.actions.insert(a, auditSeqs);
    t.history.index(facts);
    t.audit.appendEncoded(a.drafts, first);
    return { inserted: true, auditSeqs };
  }
  const ops = {
    /**
     * A new action and its entries, packed by the sending thread (sqlite-packed-action.ts).
     * The inserted action is not sent back (the caller has it): `{inserted: true}` and the
     * sequence numbers of its entries, which the stored record lists.
     */
    insertAction({ action }: { action: PackedAction }): ReturnType<typeof insert> {
      return insert(unpackAction(action));
    },
    /** On success, every sequence number of the action's entries (the stored record's `auditSeqs`); false on a CAS miss. */
    updateAction({ next, expectedVersion, drafts }: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[] }): number[] | false {
      if (!Number.isSafeInteger(expectedVersion) || next.version !== expectedVersion + 1) {
        throw new AppError('INTERNAL', `an update from version ${expectedVersion} writes version ${expectedVersion + 1}, not ${next.version}`);
      }
      const first = drafts.length ? t.audit.nextSeq() : 0;
      const earlier = next.auditSeqs ?? t.audit.seqsFor(next.id);
      const auditSeqs = [...earlier, ...seqsFrom(first, drafts.length)];
      if (!t.actions.update({ ...next, auditSeqs }, expectedVersion)) return false;
      t.history.index(next);
      t.audit.appendEntries(drafts, first);
      return auditSeqs;
    },
    appendAudit({ drafts }: { drafts: readonly AuditDraft[] }): AuditEntry[] {
      return t.audit.appendEntries(drafts);
    },
    // Chat channels and webhooks (ports/channel-store.ts).
    startFeed({ feed, seq }: { feed: string; seq: number }): number {
      return t.channels.startFeed(feed, seq);
    },
    /** One dispatcher round in one transaction: move the feed, settle finished deliveries, claim due ones. */
    cycleDeliveries(a: {
      now: string;
      feed?: { feed: string; from: number; to: number; deliveries: readonly NewDelivery[] } | undefined;
      finished?: readonly FinishedDelivery[] | undefined;
      claim?: { owner: string; leaseMs: number; limit: number; skip?: readonly string[] | undefined } | undefined;
    }): { advanced?: boolean; settled: Array<DeliveryStatus | 'lost'>; claimed: Delivery[] } {
      const now = instantOf(a.now, 'now');
      const out: { advanced?: boolean; settled: Array<DeliveryStatus | 'lost'>; claimed: Delivery[] } = { settled: [], claimed: [] };
      if (a.feed) out.advanced = t.channels.advanceFeed(a.feed.feed, a.feed.from, a.feed.to, a.feed.deliveries, now);
      for (const f of a.finished ?? []) out.settled.push(t.channels.finish(f.id, f.owner, f.outcome, f.attempt, f.messages));
      if (a.claim) out.claimed = t.channels.claimDue(a.claim.owner, now, a.claim.leaseMs, a.claim.limit, a.claim.skip ?? []);
      return out;
    },
    pruneDeliveries(a: { before: string; limit: number }): number {
      return t.channels.prune(instantOf(a.before, 'before'), a.limit);
    },
    rememberInteraction(a: { key: string; now: string; forgetBefore: string }): boolean {
      return t.channels.rememberInteraction(a.key, instantOf(a.now, 'now'), instantOf(a.forgetBefore, 'forgetBefore'));
    },
    /** Channels removed by a config reload: their pending deliveries cancelled, with the reload's audit entry. */
    cancelDeliveries(a: { channels: readonly string[]; now: string; error: string; entry: AuditDraft }): number {
      const n = t.channels.cancelPending(a.channels, a.error, instantOf(a.now, 'now'));
      t.audit.appendEntries([{ ...a.entry, data: { ...a.entry.data, cancelledDeliveries: n } }]);
      return n;
    },
    addCheckpoint({ cp, previousSize }: { cp: { size: number; root: Uint8Array; note: string; signedAt: string }; previousSize: number }): boolean {
      return t.auditLog.addCheckpoint(cp, previousSize);
    },
    addCosignature({ size, witness, line, at }: { size: number; witness: string; line: string; at: string }): void {
      t.auditLog.addCosignature(size, witness, line, at);
    },
    claimCursor({ name, owner, nowMs, untilMs }: { name: string; owner: string; nowMs: number; untilMs: number }): number | undefined {
      return t.auditLog.claimCursor(name, owner, nowMs, untilMs);
    },
    advanceCursor({ name, owner, from, to }: { name: string; owner: string; from: number; to: number }): boolean {
      return t.auditLog.advanceCursor(name, owner, from, to);
    },
  };
  const hold = (a: ActionFacts) => t.agent.hold(a);
  return { ...ops, ...createAgentWriteOps(t, insert), ...createConsoleWriteOps(t), ...createGrantWriteOps(t, insert, ops.updateAction, hold) };
}

export type WriteOps = ReturnType<typeof createWriteOps>;
export type WriteOpName = keyof WriteOps;
export type WriteArgs<K extends WriteOpName> = Parameters<WriteOps[K]>[0];
export type WriteResult<K extends WriteOpName> = ReturnType<WriteOps[K]>;
