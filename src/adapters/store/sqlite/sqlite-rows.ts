import type { ActionRecord } from '../../../domain/action-record.js';
import { instantOf } from '../store-error.js';

/** The columns of one `actions` row, named as the SQL parameters that write them. */
export interface ActionRow {
  id: string;
  status: string;
  mode: string;
  requester_id: string;
  idempotency_key: string | null;
  created_at: number;
  updated_at: number;
  expires_at: number | null;
  next_escalation_at: number | null;
  version: number;
  record: string;
}

/**
 * The indexed columns are derived from the record, never set on their own, so they
 * cannot disagree with it. Expiry and escalation times are indexed for pending
 * actions only: the scheduler's queries then skip everything already settled.
 */
export function rowOf(a: ActionRecord): ActionRow {
  const pending = a.status === 'pending';
  return {
    id: a.id,
    status: a.status,
    mode: a.mode,
    requester_id: a.requester.id,
    idempotency_key: a.idempotencyKey ?? null,
    created_at: instantOf(a.createdAt, 'createdAt'),
    updated_at: instantOf(a.updatedAt, 'updatedAt'),
    expires_at: pending && a.review ? instantOf(a.review.expiresAt, 'review.expiresAt') : null,
    next_escalation_at: pending && a.nextEscalationAt !== undefined ? instantOf(a.nextEscalationAt, 'nextEscalationAt') : null,
    version: a.version,
    record: JSON.stringify(a),
  };
}

export function recordOf(row: { record: string }): ActionRecord {
  return JSON.parse(row.record) as ActionRecord;
}

export function recordsOf(rows: unknown[]): ActionRecord[] {
  return (rows as Array<{ record: string }>).map(recordOf);
}
