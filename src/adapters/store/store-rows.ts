import type { Delivery, DeliveryStatus } from '../../ports/channel-store.js';
import type { ConsoleSession } from '../../ports/console-sessions.js';

/*
 * Row shapes and row-to-record mapping both stores share: SQLite and PostgreSQL keep these
 * tables with the same columns (times as epoch milliseconds, lists as JSON text).
 */

export const iso = (ms: number) => new Date(ms).toISOString();

export interface DeliveryRow {
  id: number;
  channel: string;
  kind: Delivery['kind'];
  action_id: string;
  event_key: string | null;
  event_type: string | null;
  payload: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export function deliveryOf(r: DeliveryRow): Delivery {
  const d: Delivery = {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    actionId: r.action_id,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: iso(r.next_attempt_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
  if (r.event_key !== null) d.eventKey = r.event_key;
  if (r.event_type !== null) d.eventType = r.event_type;
  if (r.payload !== null) d.payload = r.payload;
  if (r.last_error !== null) d.lastError = r.last_error;
  return d;
}

export interface SessionRow {
  id: string;
  human: string;
  known: number;
  groups: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  end_reason: string | null;
}

export function sessionOf(r: SessionRow): ConsoleSession {
  const s: ConsoleSession = {
    id: r.id,
    human: r.human,
    known: r.known === 1,
    groups: JSON.parse(r.groups) as string[],
    createdAt: iso(r.created_at),
    lastSeenAt: iso(r.last_seen_at),
    expiresAt: iso(r.expires_at),
  };
  if (r.ended_at !== null) s.endedAt = iso(r.ended_at);
  if (r.end_reason !== null) s.endReason = r.end_reason;
  return s;
}
