import type { ActionRecord } from '../domain/action-record.js';
import type { AuditDraft, AuditEntry } from '../domain/audit-entry.js';
import type { Status } from '../domain/status.js';

export type InsertResult =
  | { inserted: true; action: ActionRecord }
  /** The requester already used this idempotency key: the earlier action, unchanged. */
  | { inserted: false; existing: ActionRecord };

export interface ActionQuery {
  status?: readonly Status[];
  /** Only actions submitted by this requester. */
  requesterId?: string;
  /**
   * Only actions whose requirements name one of these approver references
   * (`user:x`, `group:y`; escalation targets once escalated) or that one of these
   * reviewers (`user:x`) reviewed. `user:` references compare case-insensitively,
   * like `refMatches`; group names compare exactly.
   */
  audience?: readonly string[];
  /** Newest first; return actions strictly before this (createdAt, id) cursor in that order. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/**
 * Durable state. Every write is atomic with its audit entries: either the change and
 * all its entries commit, or nothing does. Writes are compare-and-swap on `version`.
 * Audit sequence numbers are contiguous from 0, assigned inside the write's transaction
 * (several processes may write the same store). A promise resolves only once its write
 * is durable. CAS misses and idempotency repeats are results; failures of the storage
 * itself reject with AppError `STORAGE_ERROR`, whose details never carry the cause.
 *
 * Timestamps are ISO-8601 strings (as `Date.toISOString()` writes them); stores compare
 * them as instants, never as text.
 */
export interface Store {
  /**
   * Inserts a new action (its version must be 1) with its audit entries, unless the
   * requester already used its idempotency key: then nothing is written. The inserted
   * record lists its entries' sequence numbers (`auditSeqs`, also set on `action`).
   */
  insertAction(action: ActionRecord, audit: readonly AuditDraft[]): Promise<InsertResult>;
  /**
   * Replaces the action if its stored version is `expectedVersion`, appending the audit
   * entries in the same transaction. Returns false (and changes nothing) otherwise.
   * `next.version` must be `expectedVersion + 1`; id, requester, createdAt and
   * idempotency key never change. On success `next.auditSeqs` lists the sequence
   * numbers of all the action's entries, as stored.
   */
  updateAction(next: ActionRecord, expectedVersion: number, audit: readonly AuditDraft[]): Promise<boolean>;
  getAction(id: string): Promise<ActionRecord | undefined>;
  getByIdempotencyKey(requesterId: string, key: string): Promise<ActionRecord | undefined>;
  listActions(q: ActionQuery): Promise<ActionRecord[]>;
  /** Pending actions whose expiry is at or before `now`, soonest first. */
  dueForExpiry(now: string, limit: number): Promise<ActionRecord[]>;
  /** Pending actions with an escalation at or before `now`, soonest first. */
  dueForEscalation(now: string, limit: number): Promise<ActionRecord[]>;
  /** Actions in this status, oldest first (start-up recovery: running, and approved execute-mode actions). */
  withStatus(status: Status, limit: number): Promise<ActionRecord[]>;
  /**
   * How many actions are in this status (counted up to `cap`) and when the oldest was
   * created (ms since the epoch), without reading their records: a scrape of /metrics
   * with ten thousand pending actions must not decode ten thousand records.
   */
  countWithStatus(status: Status, cap: number): Promise<{ count: number; oldestCreatedAtMs: number | undefined }>;
  /**
   * Approved execute-mode actions not yet started, oldest first. Decide-mode approvals
   * are final and pile up over time; this must not scan them.
   */
  awaitingExecution(limit: number): Promise<ActionRecord[]>;
  /** Appends entries that belong to no action state change (policy loads). */
  appendAudit(audit: readonly AuditDraft[]): Promise<AuditEntry[]>;
  /** Entries with start <= seq < end, in order. */
  readAudit(start: number, end: number): Promise<AuditEntry[]>;
  /** Sequence numbers of one action's entries, in order. */
  auditSeqsFor(actionId: string): Promise<number[]>;
  /** Number of entries (= next sequence number). */
  auditSize(): Promise<number>;
  /** Waits for the writes already requested to commit, then releases the store. Idempotent. */
  /** Whether the store can read and write now (for /healthz): a dead writer is unhealthy. */
  health(): Promise<{ ok: boolean; reason?: string }>;
  close(): Promise<void>;
}
