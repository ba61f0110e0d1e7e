import type { ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { InsertResult } from './store.js';

/**
 * Calls that an agent makes again to learn their outcome (an MCP tools/call or a
 * Claude Code tool use that needed review). The agent sees each outcome once: the
 * approved fingerprint is used once, and an identical call after that is a new action.
 * Writes are atomic with their audit entries, like the Store's.
 */
export interface HeldCallStore {
  /**
   * Inserts the action as Store.insertAction does and, in the same transaction,
   * records it as a held call of (requester, fingerprint) whose outcome is undelivered.
   */
  insertHeld(action: ActionRecord, audit: readonly AuditDraft[]): Promise<InsertResult>;
  /** The newest held action of this requester with this fingerprint whose outcome was not delivered yet. */
  openHeld(requesterId: string, fingerprint: string): Promise<ActionRecord | undefined>;
  /** Marks the outcome delivered, with its audit entries. False (and nothing written) if it already was, or is not held. */
  deliver(actionId: string, audit: readonly AuditDraft[]): Promise<boolean>;
}
