import type { ActionRecord } from '../../../domain/action-record.js';
import type { AuditDraft, AuditEntry } from '../../../domain/audit-entry.js';
import { AppError } from '../../../domain/errors.js';
import type { Delivery, DeliveryStatus, FinishedDelivery, NewDelivery } from '../../../ports/channel-store.js';
import type { InsertResult } from '../../../ports/store.js';
import type { ListedTool } from '../../../ports/tool-pins.js';
import { instantOf } from '../store-error.js';
import { actionReads, actionWrites } from './pg-actions.js';
import { agentSql } from './pg-agent.js';
import type { PendingLog } from './pg-audit.js';
import { appendEntries, auditLogWrites, flushPending, seqsFor } from './pg-audit.js';
import { channelSql } from './pg-channels.js';
import { historyWrites } from './pg-history-ops.js';
import { historySql } from './pg-history.js';
import type { Sql } from './pg-connect.js';
import type { PgTreeAppender } from './pg-tree.js';

/** What a write sees: its transaction, and (for writes that hold the sequencer) the log's head. */
export interface Tx {
  q: Sql;
  /** The next sequence number; present only in a batch that locked the sequencer. */
  head: { next: number } | undefined;
  tree: PgTreeAppender;
  /** Entries and tree nodes buffered until flushPending (one INSERT each per batch). */
  pending: PendingLog;
  /** Ids of actions changed in this transaction (NOTIFY'd at commit, to wake waiters on every replica). */
  changed: Set<string>;
  /** New actions buffered by `insertAction` until flushActions (one statement for all of them). */
  actions: ActionRecord[];
}

/**
 * Sends the buffered new actions (rows, audience, history index). The writer calls it
 * before any write that is not `batched` (it may read or reference those rows) and before
 * the log's rows, so every statement sees the batch's earlier inserts.
 */
export async function flushActions(tx: Tx): Promise<void> {
  if (tx.actions.length === 0) return;
  const list = tx.actions.splice(0);
  await actionWrites.insertMany(tx.q, list);
  await historySql.indexMany(tx.q, list);
}

function headOf(tx: Tx): { next: number } {
  if (!tx.head) throw new Error('this write appends audit entries, so it must be marked `log: true`');
  return tx.head;
}

type InsertOutcome = { inserted: true; auditSeqs: number[] } | Extract<InsertResult, { inserted: false }>;

/** `buffered`: the row is sent with the batch's other new actions (flushActions), not at once. */
async function insertAction(tx: Tx, { action, drafts }: { action: ActionRecord; drafts: readonly AuditDraft[] }, buffered = false): Promise<InsertOutcome> {
  if (action.version !== 1) throw new AppError('INTERNAL', `a new action has version 1, not ${action.version}`);
  if (action.idempotencyKey !== undefined) {
    // Inside the sequencer's lock: a repeat from any replica sees the first insert; one
    // earlier in this batch is still buffered.
    const key = action.idempotencyKey;
    const existing = tx.actions.find((a) => a.requester.id === action.requester.id && a.idempotencyKey === key) ?? (await actionReads.byIdempotencyKey(tx.q, action.requester.id, key));
    if (existing) return { inserted: false, existing };
  }
  const head = headOf(tx);
  const auditSeqs = drafts.map((_, i) => head.next + i);
  if (buffered) tx.actions.push({ ...action, auditSeqs });
  else {
    await actionWrites.insert(tx.q, { ...action, auditSeqs });
    await historySql.index(tx.q, action);
  }
  appendEntries(head, tx.tree, tx.pending, drafts);
  tx.changed.add(action.id);
  return { inserted: true, auditSeqs };
}

/** The compare-and-swap on version; on success, every sequence number of the action's entries. */
async function updateAction(tx: Tx, { next, expectedVersion, drafts }: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[] }): Promise<number[] | false> {
  if (!Number.isSafeInteger(expectedVersion) || next.version !== expectedVersion + 1) {
    throw new AppError('INTERNAL', `an update from version ${expectedVersion} writes version ${expectedVersion + 1}, not ${next.version}`);
  }
  const head = headOf(tx);
  // The stored list is read only for a record that lacks it; buffered entries are sent first.
  let earlier = next.auditSeqs;
  if (!earlier) {
    await flushPending(tx.q, tx.pending);
    earlier = await seqsFor(tx.q, next.id);
  }
  const auditSeqs = [...earlier, ...drafts.map((_, i) => head.next + i)];
  if (!(await actionWrites.update(tx.q, { ...next, auditSeqs }, expectedVersion))) return false;
  appendEntries(head, tx.tree, tx.pending, drafts);
  await historySql.index(tx.q, next);
  tx.changed.add(next.id);
  return auditSeqs;
}

async function insertHeld(tx: Tx, args: { action: ActionRecord; drafts: readonly AuditDraft[] }): Promise<InsertOutcome> {
  const r = await insertAction(tx, args);
  if (r.inserted) await agentSql.hold(tx.q, args.action);
  return r;
}

/**
 * Every write the PostgreSQL store makes, by name, with whether it holds the sequencer
 * (`log`): those that append entries or store checkpoints. A batch takes the sequencer
 * once, first, if any of its writes needs it, so no two transactions that need it can
 * deadlock on each other's rows.
 */
export const PG_WRITES = {
  // `batched`: runs against buffered rows (new actions are sent together, see flushActions).
  insertAction: { log: true, batched: true, run: (tx: Tx, a: { action: ActionRecord; drafts: readonly AuditDraft[] }) => insertAction(tx, a, true) },
  updateAction: { log: true, run: updateAction },
  appendAudit: {
    log: true,
    batched: true,
    run: (tx: Tx, { drafts }: { drafts: readonly AuditDraft[] }): Promise<AuditEntry[]> => Promise.resolve(appendEntries(headOf(tx), tx.tree, tx.pending, drafts)),
  },
  insertHeld: { log: true, run: insertHeld },
  deliver: {
    log: true,
    async run(tx: Tx, { actionId, drafts, at }: { actionId: string; drafts: readonly AuditDraft[]; at: string }): Promise<boolean> {
      if (!(await agentSql.deliver(tx.q, actionId, instantOf(at, 'at')))) return false;
      appendEntries(headOf(tx), tx.tree, tx.pending, drafts);
      return true;
    },
  },
  observeTools: {
    log: true,
    async run(tx: Tx, { server, tools, now }: { server: string; tools: readonly ListedTool[]; now: string }): Promise<{ changed: string[] }> {
      const pins = new Map((await agentSql.pins(tx.q, server)).map((p) => [p.tool, p]));
      const at = instantOf(now, 'now');
      const pinned: Array<{ name: string; hash: string }> = [];
      const drafts: AuditDraft[] = [];
      const changed: string[] = [];
      for (const tool of tools) {
        const pin = pins.get(tool.name);
        const definition = JSON.stringify(tool.definition);
        if (!pin) {
          await agentSql.pin(tx.q, server, tool.name, tool.hash, definition, at);
          pinned.push({ name: tool.name, hash: tool.hash });
          continue;
        }
        if (pin.hash === tool.hash) continue;
        changed.push(tool.name);
        if (pin.seen_hash === tool.hash) continue; // this definition was already audited
        await agentSql.seen(tx.q, server, tool.name, tool.hash, definition);
        drafts.push({
          type: 'mcp.tool.changed',
          ts: now,
          actor: { type: 'system', id: 'countersign' },
          data: { server, tool: tool.name, pinnedHash: pin.hash, previousHash: pin.seen_hash, hash: tool.hash, definition: tool.definition },
        });
      }
      if (pinned.length) drafts.unshift({ type: 'mcp.tool.pinned', ts: now, actor: { type: 'system', id: 'countersign' }, data: { server, tools: pinned } });
      if (drafts.length) appendEntries(headOf(tx), tx.tree, tx.pending, drafts);
      return { changed };
    },
  },
  repin: {
    log: true,
    async run(tx: Tx, { server, tool, actor, now }: { server: string; tool: string; actor: string; now: string }): Promise<boolean> {
      const pin = (await agentSql.pins(tx.q, server)).find((p) => p.tool === tool);
      if (!pin || !(await agentSql.repin(tx.q, server, tool, instantOf(now, 'now')))) return false;
      appendEntries(headOf(tx), tx.tree, tx.pending, [
        { type: 'mcp.tool.repinned', ts: now, actor: { type: 'human', id: actor }, data: { server, tool, previousHash: pin.hash, hash: pin.seen_hash } },
      ]);
      return true;
    },
  },
  addCheckpoint: {
    log: true,
    run: (tx: Tx, { cp, previousSize }: { cp: { size: number; root: Uint8Array; note: string; signedAt: string }; previousSize: number }): Promise<boolean> =>
      auditLogWrites.addCheckpoint(tx.q, headOf(tx).next, cp, previousSize),
  },
  addCosignature: {
    log: false,
    run: (tx: Tx, a: { size: number; witness: string; line: string; at: string }): Promise<void> => auditLogWrites.addCosignature(tx.q, a.size, a.witness, a.line, a.at),
  },
  claimCursor: {
    log: false,
    run: (tx: Tx, a: { name: string; owner: string; nowMs: number; untilMs: number }): Promise<number | undefined> => auditLogWrites.claimCursor(tx.q, a.name, a.owner, a.nowMs, a.untilMs),
  },
  advanceCursor: {
    log: false,
    run: (tx: Tx, a: { name: string; owner: string; from: number; to: number }): Promise<boolean> => auditLogWrites.advanceCursor(tx.q, a.name, a.owner, a.from, a.to),
  },
  startFeed: {
    log: false,
    run: (tx: Tx, a: { feed: string; seq: number }): Promise<number> => channelSql.startFeed(tx.q, a.feed, a.seq),
  },
  cycleDeliveries: {
    log: false,
    async run(
      tx: Tx,
      a: {
        now: string;
        feed?: { feed: string; from: number; to: number; deliveries: readonly NewDelivery[] } | undefined;
        finished?: readonly FinishedDelivery[] | undefined;
        claim?: { owner: string; leaseMs: number; limit: number; skip?: readonly string[] | undefined } | undefined;
      },
    ): Promise<{ advanced?: boolean; settled: Array<DeliveryStatus | 'lost'>; claimed: Delivery[] }> {
      const now = instantOf(a.now, 'now');
      const out: { advanced?: boolean; settled: Array<DeliveryStatus | 'lost'>; claimed: Delivery[] } = { settled: [], claimed: [] };
      if (a.feed) out.advanced = await channelSql.advanceFeed(tx.q, a.feed.feed, a.feed.from, a.feed.to, a.feed.deliveries, now);
      for (const f of a.finished ?? []) out.settled.push(await channelSql.finish(tx.q, f.id, f.owner, f.outcome, f.attempt, f.messages));
      if (a.claim) out.claimed = await channelSql.claimDue(tx.q, a.claim.owner, now, a.claim.leaseMs, a.claim.limit, a.claim.skip ?? []);
      return out;
    },
  },
  pruneDeliveries: {
    log: false,
    run: (tx: Tx, a: { before: string; limit: number }): Promise<number> => channelSql.prune(tx.q, instantOf(a.before, 'before'), a.limit),
  },
  rememberInteraction: {
    log: false,
    run: (tx: Tx, a: { key: string; now: string; forgetBefore: string }): Promise<boolean> =>
      channelSql.rememberInteraction(tx.q, a.key, instantOf(a.now, 'now'), instantOf(a.forgetBefore, 'forgetBefore')),
  },
  cancelDeliveries: {
    log: true,
    async run(tx: Tx, a: { channels: readonly string[]; now: string; error: string; entry: AuditDraft }): Promise<number> {
      const n = await channelSql.cancelPending(tx.q, a.channels, a.error, instantOf(a.now, 'now'));
      appendEntries(headOf(tx), tx.tree, tx.pending, [{ ...a.entry, data: { ...a.entry.data, cancelledDeliveries: n } }]);
      return n;
    },
  },
  // Standing grants and the console (pg-history-ops.ts).
  ...historyWrites(insertAction, updateAction, insertHeld),
} as const;

type Writes = typeof PG_WRITES;
export type PgWriteName = keyof Writes;
export type PgWriteArgs<K extends PgWriteName> = Parameters<Writes[K]['run']>[1];
export type PgWriteResult<K extends PgWriteName> = Awaited<ReturnType<Writes[K]['run']>>;
