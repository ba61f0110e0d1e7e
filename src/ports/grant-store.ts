import type { ActionRecord } from '../domain/action-record.js';
import type { AuditDraft } from '../domain/audit-entry.js';
import type { Grant } from '../domain/grant.js';
import type { GrantEnd } from '../domain/grant-end.js';
import type { InsertResult } from './store.js';

/**
 * Standing grants (domain/grant.ts). Every write is atomic with its audit entries and
 * with the action change it belongs to. `uses` and `revokedAt` are the store's: reads
 * return them as stored.
 */
export interface GrantStore {
  /** Store.updateAction, plus the new grant, in one transaction (its `grant.created` entry is among `audit`). False on a CAS miss, and nothing is written. */
  updateWithGrant(next: ActionRecord, expectedVersion: number, audit: readonly AuditDraft[], grant: Grant): Promise<boolean>;
  /**
   * Store.insertAction for an action a grant allowed, using the grant in the same
   * transaction: only if it still has `expectedUses` uses, is not revoked or ended and has
   * not expired at `nowMs`. Otherwise nothing is written and `grantUnavailable` is returned.
   * The use that leaves none ends the grant (`grant.ended`, used-up) in the same transaction.
   * An idempotent repeat returns the earlier action and uses nothing.
   */
  insertWithGrant(action: ActionRecord, audit: readonly AuditDraft[], use: { grantId: string; expectedUses: number; nowMs: number }): Promise<InsertResult | { inserted: false; grantUnavailable: true }>;
  getGrant(id: string): Promise<Grant | undefined>;
  /**
   * Newest first. `usableAt`: only grants not revoked, not expired then and with uses left.
   * `audience`: only grants one of these keys may see (grantAudienceOf, audienceKeysOf in
   * domain/grant-access.ts), found through an index, not by reading every grant; and any
   * grant written without its index rows (by an earlier release during a rolling upgrade),
   * which the caller judges itself.
   */
  listGrants(q: { limit: number; usableAt?: number | undefined; audience?: readonly string[] | undefined }): Promise<Grant[]>;
  /** The usable grants of this agent on this target at `nowMs`, oldest first. */
  grantsFor(agent: string, target: string, nowMs: number): Promise<Grant[]>;
  /** Grants not yet ended (grant-end.ts), soonest expiry first: what the sweep looks at. */
  openGrants(limit: number): Promise<Grant[]>;
  /**
   * Ends each grant not ended yet, with its `grant.ended` entry, in one transaction;
   * returns the ids it ended. Guarded by the grant's end mark, so that each grant's
   * entry is written once whichever replica or sweep gets there first.
   */
  endGrants(ends: readonly GrantEnd[]): Promise<string[]>;
  /** Revokes with a `grant.revoked` entry (and `grant.ended` unless it had ended); `inactive` if it was already revoked. */
  revokeGrant(id: string, by: string, reason: string | undefined, at: string): Promise<Grant | 'not-found' | 'inactive'>;
}
