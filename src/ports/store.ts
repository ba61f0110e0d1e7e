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
   * (`user:x`, `group:y`) or that one of these reviewers (`user:x`) reviewed.
   */
  audience?: readonly string[];
  /** Newest first; return actions created strictly before this (id, createdAt) cursor. */
  before?: { createdAt: string; id: string };
  limit: number;
}

/**
 * Durable state. Every write is atomic with its audit entries: either the change and
 * all its entries commit, or nothing does. Writes are compare-and-swap on `version`.
 * Audit sequence numbers are contiguous from 0, assigned inside the write's transaction.
 */
export interface Store {
  /** Inserts a new action (version 1) with its audit entries, unless (requester, idempotencyKey) exists. */
  insertAction(action: ActionRecord, audit: readonly AuditDraft[]): Promise<InsertResult>;
  /**
   * Replaces the action if its stored version is `expectedVersion`, appending the audit
   * entries in the same transaction. Returns false (and changes nothing) otherwise.
   */
  updateAction(next: ActionRecord, expectedVersion: number, audit: readonly AuditDraft[]): Promise<boolean>;
  getAction(id: string): Promise<ActionRecord | undefined>;
  getByIdempotencyKey(requesterId: string, key: string): Promise<ActionRecord | undefined>;
  listActions(q: ActionQuery): Promise<ActionRecord[]>;
  /** Pending actions whose expiry is at or before `now`. */
  dueForExpiry(now: string, limit: number): Promise<ActionRecord[]>;
  /** Pending actions with an escalation at or before `now`. */
  dueForEscalation(now: string, limit: number): Promise<ActionRecord[]>;
  /** Actions in these statuses (start-up recovery: running, and approved execute-mode actions). */
  withStatus(status: Status, limit: number): Promise<ActionRecord[]>;
  /** Appends entries that belong to no action state change (policy loads). */
  appendAudit(audit: readonly AuditDraft[]): Promise<AuditEntry[]>;
  /** Entries with start <= seq < end, in order. */
  readAudit(start: number, end: number): Promise<AuditEntry[]>;
  /** Sequence numbers of one action's entries, in order. */
  auditSeqsFor(actionId: string): Promise<number[]>;
  /** Number of entries (= next sequence number). */
  auditSize(): Promise<number>;
  close(): Promise<void>;
}
