import type { ActionRecord } from '../../../domain/action-record.js';
import type { AuditDraft } from '../../../domain/audit-entry.js';
import type { Grant } from '../../../domain/grant.js';
import type { GrantEnd } from '../../../domain/grant-end.js';
import { grantEndedEntry } from '../../../domain/grant-end.js';
import type { ChatLink, ChatLinkOffer, ConsoleSession } from '../../../ports/console-sessions.js';
import type { DecisionChecks } from '../../../ports/history-store.js';
import type { InsertResult } from '../../../ports/store.js';
import { instantOf } from '../store-error.js';
import { actionReads } from './pg-actions.js';
import { appendEntries } from './pg-audit.js';
import { consoleSql } from './pg-console.js';
import { historySql } from './pg-history.js';
import type { Tx } from './pg-write-ops.js';

type InsertOp = (tx: Tx, a: { action: ActionRecord; drafts: readonly AuditDraft[] }) => Promise<{ inserted: true; auditSeqs: number[] } | Extract<InsertResult, { inserted: false }>>;
type UpdateOp = (tx: Tx, a: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[] }) => Promise<number[] | false>;

function headOf(tx: Tx): { next: number } {
  if (!tx.head) throw new Error('this write appends audit entries, so it must be marked `log: true`');
  return tx.head;
}
function append(tx: Tx, drafts: readonly AuditDraft[]): void {
  if (drafts.length) appendEntries(headOf(tx), tx.tree, tx.pending, drafts);
}

/** The use that leaves a grant none ends it, with its entry, in the same transaction. */
async function endIfUsedUp(tx: Tx, grantId: string, at: string): Promise<void> {
  const g = await historySql.endGrant(tx.q, grantId, { reason: 'used-up', at }, 'used-up');
  if (g) append(tx, [grantEndedEntry(g, { reason: 'used-up', at })]);
}

/**
 * The writes of standing grants and of the console, joined to PG_WRITES (pg-write-ops.ts).
 * Those that append entries or use a grant hold the sequencer (`log`), which also
 * serializes grant uses across replicas; the CAS on `uses` stands on its own anyway.
 */
export function historyWrites(insertAction: InsertOp, updateAction: UpdateOp, insertHeld: InsertOp) {
  return {
    insertDecided: {
      log: true,
      async run(
        tx: Tx,
        a: { action: ActionRecord; drafts: readonly AuditDraft[]; checks: DecisionChecks },
      ): Promise<Awaited<ReturnType<InsertOp>> | { inserted: false; grantUnavailable: true } | { inserted: false; historyChanged: true }> {
        // An idempotent repeat checks and uses nothing.
        if (a.action.idempotencyKey !== undefined) {
          const existing = await actionReads.byIdempotencyKey(tx.q, a.action.requester.id, a.action.idempotencyKey);
          if (existing) return { inserted: false, existing };
        }
        // Holding the sequencer: every hit any replica committed is visible, and none can commit until this batch does.
        if (a.checks.reads?.length && !(await historySql.countersHold(tx.q, a.checks.reads))) return { inserted: false, historyChanged: true };
        const use = a.checks.use;
        if (use && !(await historySql.useGrant(tx.q, use.grantId, use.expectedUses, use.nowMs))) return { inserted: false, grantUnavailable: true };
        const r = await (a.checks.held ? insertHeld(tx, a) : insertAction(tx, a));
        if (use && r.inserted) await endIfUsedUp(tx, use.grantId, a.action.createdAt);
        return r;
      },
    },
    updateWithGrant: {
      log: true,
      async run(tx: Tx, a: { next: ActionRecord; expectedVersion: number; drafts: readonly AuditDraft[]; grant: Grant }): Promise<number[] | false> {
        const seqs = await updateAction(tx, a);
        if (seqs !== false) await historySql.insertGrant(tx.q, a.grant);
        return seqs;
      },
    },
    insertWithGrant: {
      log: true,
      async run(
        tx: Tx,
        a: { action: ActionRecord; drafts: readonly AuditDraft[]; use: { grantId: string; expectedUses: number; nowMs: number } },
      ): Promise<Awaited<ReturnType<InsertOp>> | { inserted: false; grantUnavailable: true }> {
        // An idempotent repeat uses nothing: checked before the grant is touched.
        if (a.action.idempotencyKey !== undefined) {
          const existing = await actionReads.byIdempotencyKey(tx.q, a.action.requester.id, a.action.idempotencyKey);
          if (existing) return { inserted: false, existing };
        }
        if (!(await historySql.useGrant(tx.q, a.use.grantId, a.use.expectedUses, a.use.nowMs))) return { inserted: false, grantUnavailable: true };
        const r = await insertAction(tx, a);
        if (r.inserted) await endIfUsedUp(tx, a.use.grantId, a.action.createdAt);
        return r;
      },
    },
    revokeGrant: {
      log: true,
      async run(tx: Tx, a: { id: string; by: string; reason?: string | undefined; at: string }): Promise<Grant | 'not-found' | 'inactive'> {
        const g = await historySql.grant(tx.q, a.id);
        if (!g) return 'not-found';
        if (!(await historySql.revokeGrant(tx.q, a.id, a.by, a.reason, a.at))) return 'inactive';
        append(tx, [
          // No actionId: the entry belongs to the grant, not to a state change of the action that created it.
          { type: 'grant.revoked', ts: a.at, actor: { type: 'human', id: a.by }, data: { grant: g.id, action: g.actionId, ...(a.reason !== undefined ? { reason: a.reason } : {}), uses: g.uses } },
        ]);
        const ended = await historySql.endGrant(tx.q, a.id, { reason: 'revoked', at: a.at });
        if (ended) append(tx, [grantEndedEntry(ended, { reason: 'revoked', at: a.at })]);
        return (await historySql.grant(tx.q, a.id))!;
      },
    },
    endGrants: {
      log: true,
      async run(tx: Tx, a: { ends: readonly GrantEnd[] }): Promise<string[]> {
        const out: string[] = [];
        for (const e of a.ends) {
          const g = await historySql.endGrant(tx.q, e.id, e, e.reason === 'expired' || e.reason === 'used-up' ? e.reason : undefined);
          if (!g) continue;
          append(tx, [grantEndedEntry(g, e)]);
          out.push(g.id);
        }
        return out;
      },
    },
    createSession: {
      log: true,
      async run(tx: Tx, a: { session: ConsoleSession; tokenHash: string; drafts: readonly AuditDraft[] }): Promise<void> {
        await consoleSql.insertSession(tx.q, a.session, a.tokenHash);
        append(tx, a.drafts);
      },
    },
    touchSession: {
      log: false,
      run: (tx: Tx, a: { id: string; at: string }): Promise<void> => consoleSql.touch(tx.q, a.id, instantOf(a.at, 'at')),
    },
    endSession: {
      log: true,
      async run(tx: Tx, a: { id: string; at: string; reason: string; drafts: readonly AuditDraft[] }): Promise<boolean> {
        if (!(await consoleSql.end(tx.q, a.id, instantOf(a.at, 'at'), a.reason))) return false;
        append(tx, a.drafts);
        return true;
      },
    },
    offerLink: {
      log: false,
      run: (tx: Tx, a: { codeHash: string; offer: ChatLinkOffer; createdAt: string }): Promise<void> => consoleSql.offer(tx.q, a.codeHash, a.offer, instantOf(a.createdAt, 'createdAt')),
    },
    claimLink: {
      log: true,
      async run(tx: Tx, a: { codeHash: string; human: string; at: string }): Promise<ChatLink | undefined> {
        const ms = instantOf(a.at, 'at');
        // Read and used in one transaction: a code binds once, even with two replicas racing.
        const offer = await consoleSql.openOffer(tx.q, a.codeHash, ms);
        if (!offer || !(await consoleSql.useOffer(tx.q, a.codeHash, ms))) return undefined;
        const link: ChatLink = { channel: offer.channel, chatUserId: offer.chatUserId, human: a.human, linkedAt: a.at };
        const previous = await consoleSql.linked(tx.q, offer.channel, offer.chatUserId);
        await consoleSql.bind(tx.q, link);
        append(tx, [
          {
            type: 'chat.identity.linked',
            ts: a.at,
            actor: { type: 'human', id: a.human },
            data: { channel: link.channel, chatUserId: link.chatUserId, human: a.human, ...(previous !== undefined && previous !== a.human ? { previous } : {}) },
          },
        ]);
        return link;
      },
    },
  } as const;
}
