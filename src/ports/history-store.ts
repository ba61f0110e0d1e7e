import type { ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { CounterHit } from '../domain/history-types.js';
import type { InsertResult } from './store.js';

/**
 * The history policy counts on (docs/policy.md, "Counters and triggers"): counter hits
 * and the (agent, target) pairs that acted, as the store indexed them, and a
 * chronological scan of actions for `policy replay`.
 *
 * Indexing is the store's part of the contract, in the same transaction as the action
 * write: whenever insertAction or updateAction writes a record, each entry of its
 * `tally` whose status `qualifies` (history-types.ts) becomes a hit (once per action
 * and counter, at the record's `updatedAt`), and a record that `hasActed` adds its
 * (requester, target) pair. So counters derive from committed state and survive restarts.
 */
export interface HistoryStore {
  /** Hits indexed after `cursor` (0 for all) and at or after `sinceMs`, in index order, with the cursor to continue from. */
  readHits(cursor: number, sinceMs: number, limit: number): Promise<{ hits: CounterHit[]; cursor: number }>;
  /** (agent, target) pairs that acted, indexed after `cursor`. */
  readActed(cursor: number, limit: number): Promise<{ pairs: Array<{ agent: string; target: string }>; cursor: number }>;
  /** Actions created in [fromMs, toMs), oldest first ((createdAt, id) order), strictly after `after`. */
  scanActions(q: { fromMs: number; toMs: number; after?: { createdAt: string; id: string } | undefined; limit: number }): Promise<ActionRecord[]>;
  /** How many actions were created in [fromMs, toMs). */
  countActions(fromMs: number, toMs: number): Promise<number>;
}

/** A counter a decision read, checked again where its action is written (exact across processes). */
export interface CounterRead {
  counter: string;
  key: string;
  /** Hits after this instant were in the window the decision counted (its now minus the window). */
  sinceMs: number;
  /** The weight the decision counted. */
  seen: number;
}

/** What must still hold when a decided action is written, checked in the write's transaction. */
export interface DecisionChecks {
  /** Refused (`historyChanged`) if the store holds more weight after `sinceMs` than `seen` for any of them: hits the decision did not know of. */
  reads?: readonly CounterRead[] | undefined;
  /** The standing grant that allowed it, used in the same transaction (GrantStore.insertWithGrant). */
  use?: { grantId: string; expectedUses: number; nowMs: number } | undefined;
  /** Recorded as a held call (HeldCallStore.insertHeld). */
  held?: boolean | undefined;
}

export type DecidedInsert = InsertResult | { inserted: false; grantUnavailable: true } | { inserted: false; historyChanged: true };

/**
 * Writes a decided action only if what its decision read of counters still holds and its
 * grant (if any) can still be used, in one transaction with the action, its audit entries
 * and its own hits. Every write that indexes hits holds the store's write lock (the
 * sequencer on PostgreSQL, BEGIN IMMEDIATE on SQLite), so checks and writes serialize
 * across processes: no two decisions both count the same fifth hit. An idempotent repeat
 * returns the earlier action and checks nothing.
 */
export interface DecidedActionStore {
  insertDecided(action: ActionRecord, audit: readonly AuditDraft[], checks: DecisionChecks): Promise<DecidedInsert>;
}
