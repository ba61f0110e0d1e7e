import type { ActionRecord } from '../domain/action-record.js';
import type { CounterHit } from '../domain/history-types.js';

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
