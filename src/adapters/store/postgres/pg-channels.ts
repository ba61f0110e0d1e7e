import type { ChatMessage, Delivery, DeliveryAttempt, DeliveryOutcome, DeliveryQuery, DeliveryStatus, NewDelivery } from '../../../ports/channel-store.js';
import { instantOf, limitOf } from '../store-error.js';
import type { DeliveryRow } from '../store-rows.js';
import { deliveryOf, iso } from '../store-rows.js';
import type { Sql } from './pg-connect.js';

const COLS = 'id, channel, kind, action_id, event_key, event_type, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at';

/** The channel tables' writes (in the writer's transaction) and reads; the same rules as sqlite-channels.ts. */
export const channelSql = {
  async feedPosition(q: Sql, feed: string): Promise<number | undefined> {
    return (await q.query<{ seq: number }>('SELECT seq FROM notify_cursors WHERE feed = $1', [feed])).rows[0]?.seq;
  },
  async startFeed(q: Sql, feed: string, seq: number): Promise<number> {
    await q.query('INSERT INTO notify_cursors (feed, seq) VALUES ($1, $2) ON CONFLICT (feed) DO NOTHING', [feed, seq]);
    return (await q.query<{ seq: number }>('SELECT seq FROM notify_cursors WHERE feed = $1', [feed])).rows[0]!.seq;
  },
  /** Compare-and-swap on the feed's row: a replica that lost the race enqueues nothing. */
  async advanceFeed(q: Sql, feed: string, from: number, to: number, deliveries: readonly NewDelivery[], now: number): Promise<boolean> {
    if ((await q.query('UPDATE notify_cursors SET seq = $1 WHERE feed = $2 AND seq = $3', [to, feed, from])).rowCount === 0) return false;
    for (const d of deliveries) {
      if (d.kind === 'event') {
        await q.query(
          `INSERT INTO channel_deliveries (channel, kind, action_id, event_key, event_type, payload, status, next_attempt_at, created_at, updated_at)
           VALUES ($1, 'event', $2, $3, $4, $5, 'pending', $6, $6, $6) ON CONFLICT (channel, event_key) WHERE event_key IS NOT NULL DO NOTHING`,
          [d.channel, d.actionId, d.eventKey ?? null, d.eventType ?? null, d.payload ?? null, now],
        );
      } else {
        await q.query(
          `INSERT INTO channel_deliveries (channel, kind, action_id, status, next_attempt_at, created_at, updated_at)
           VALUES ($1, 'sync', $2, 'pending', $3, $3, $3)
           ON CONFLICT (channel, action_id) WHERE kind = 'sync' AND status = 'pending'
           DO UPDATE SET next_attempt_at = LEAST(channel_deliveries.next_attempt_at, excluded.next_attempt_at), updated_at = excluded.updated_at`,
          [d.channel, d.actionId, now],
        );
      }
    }
    return true;
  },
  /**
   * Leases due deliveries, the oldest pending one of each (channel, action) only. SKIP
   * LOCKED: replicas claiming at the same moment take different rows and never wait.
   */
  async claimDue(q: Sql, owner: string, now: number, leaseMs: number, limit: number, skip: readonly string[]): Promise<Delivery[]> {
    const rows = (
      await q.query<DeliveryRow>(
        `WITH due AS (
           SELECT d.id FROM channel_deliveries AS d
           WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
             AND NOT (d.channel = ANY($2::text[]))
             AND NOT EXISTS (SELECT 1 FROM channel_deliveries AS o
               WHERE o.status = 'pending' AND o.channel = d.channel AND o.action_id = d.action_id AND o.id < d.id)
           ORDER BY d.next_attempt_at, d.id LIMIT $3
           FOR UPDATE SKIP LOCKED)
         UPDATE channel_deliveries AS c SET lease_until = $4, lease_owner = $5 FROM due WHERE c.id = due.id
         RETURNING ${COLS.split(', ').map((c) => `c.${c}`).join(', ')}`,
        [now, [...skip], limitOf(limit), now + leaseMs, owner],
      )
    ).rows;
    return rows.sort((a, b) => a.next_attempt_at - b.next_attempt_at || a.id - b.id).map(deliveryOf);
  },
  async finish(
    q: Sql,
    id: number,
    owner: string,
    outcome: DeliveryOutcome,
    attempt: DeliveryAttempt,
    messages?: { actionId: string; channel: string; list: readonly ChatMessage[] },
  ): Promise<DeliveryStatus | 'lost'> {
    const cur = (
      await q.query<{ kind: Delivery['kind']; action_id: string; status: DeliveryStatus; attempts: number; lease_owner: string | null }>(
        'SELECT kind, action_id, status, attempts, lease_owner FROM channel_deliveries WHERE id = $1 FOR UPDATE',
        [id],
      )
    ).rows[0];
    if (!cur || cur.status !== 'pending' || cur.lease_owner !== owner) return 'lost';
    const now = instantOf(attempt.at, 'attempt.at');
    const attempts = cur.attempts + 1;
    for (const m of messages?.list ?? []) {
      await q.query(
        `INSERT INTO channel_messages (action_id, channel, target, ref, rendered_version, replied) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (action_id, channel, target) DO UPDATE SET ref = excluded.ref, rendered_version = excluded.rendered_version, replied = excluded.replied`,
        [messages!.actionId, messages!.channel, m.target, JSON.stringify(m.ref), m.renderedVersion, m.replied],
      );
    }
    await q.query('INSERT INTO channel_attempts (delivery_id, attempt, ok, detail, duration_ms, at) VALUES ($1, $2, $3, $4, $5, $6)', [
      id,
      attempts,
      attempt.ok,
      attempt.detail ?? null,
      Math.max(0, Math.round(attempt.durationMs)),
      now,
    ]);
    let status: DeliveryStatus = 'done';
    let next = now;
    let error: string | null = null;
    switch (outcome.type) {
      case 'done':
        if (cur.kind === 'sync') {
          // Reconciliation: the action moved on while this ran, so render again, now.
          const v = (await q.query<{ version: number }>('SELECT version FROM actions WHERE id = $1', [cur.action_id])).rows[0]?.version ?? 0;
          const shown = Math.min(...(messages?.list.map((m) => m.renderedVersion) ?? [v]));
          if (shown < v) status = 'pending';
        }
        break;
      case 'retry':
        status = 'pending';
        next = instantOf(outcome.at, 'outcome.at');
        error = outcome.error;
        break;
      case 'dead':
        status = 'dead';
        error = outcome.error;
        break;
    }
    const count = status === 'pending' && outcome.type === 'done' ? 0 : attempts;
    await q.query(
      `UPDATE channel_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5, lease_until = NULL, lease_owner = NULL, updated_at = $6 WHERE id = $1`,
      [id, status, count, next, error, now],
    );
    return status;
  },
  async messages(q: Sql, actionId: string, channel: string): Promise<ChatMessage[]> {
    const r = await q.query<{ target: string; ref: string; rendered_version: number; replied: number }>(
      'SELECT target, ref, rendered_version, replied FROM channel_messages WHERE action_id = $1 AND channel = $2 ORDER BY target COLLATE "C"',
      [actionId, channel],
    );
    return r.rows.map((x) => ({ target: x.target, ref: JSON.parse(x.ref) as Record<string, string>, renderedVersion: x.rendered_version, replied: x.replied }));
  },
  async list(q: Sql, query: DeliveryQuery): Promise<Delivery[]> {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const where: string[] = [];
    if (query.actionId) where.push(`action_id = ${bind(query.actionId)}`);
    if (query.channel) where.push(`channel = ${bind(query.channel)}`);
    if (query.status) where.push(`status = ${bind(query.status)}`);
    if (query.beforeId !== undefined) where.push(`id < ${bind(query.beforeId)}`);
    const sql = `SELECT ${COLS} FROM channel_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${bind(limitOf(query.limit))}`;
    return (await q.query<DeliveryRow>(sql, params)).rows.map(deliveryOf);
  },
  async attempts(q: Sql, deliveryId: number): Promise<DeliveryAttempt[]> {
    const r = await q.query<{ attempt: number; ok: boolean; detail: string | null; duration_ms: number; at: number }>(
      'SELECT attempt, ok, detail, duration_ms, at FROM channel_attempts WHERE delivery_id = $1 ORDER BY id',
      [deliveryId],
    );
    return r.rows.map((x) => ({ attempt: x.attempt, ok: x.ok, ...(x.detail !== null ? { detail: x.detail } : {}), durationMs: x.duration_ms, at: iso(x.at) }));
  },
  async prune(q: Sql, before: number, limit: number): Promise<number> {
    const ids = (
      await q.query<{ id: number }>("SELECT id FROM channel_deliveries WHERE updated_at < $1 AND status IN ('done', 'dead') ORDER BY updated_at, id LIMIT $2 FOR UPDATE SKIP LOCKED", [
        before,
        limitOf(limit),
      ])
    ).rows.map((r) => r.id);
    if (ids.length === 0) return 0;
    await q.query('DELETE FROM channel_attempts WHERE delivery_id = ANY($1::bigint[])', [ids]);
    await q.query('DELETE FROM channel_deliveries WHERE id = ANY($1::bigint[])', [ids]);
    return ids.length;
  },
  async cancelPending(q: Sql, channels: readonly string[], error: string, now: number): Promise<number> {
    const r = await q.query(
      `UPDATE channel_deliveries SET status = 'dead', last_error = $2, lease_until = NULL, lease_owner = NULL, updated_at = $3 WHERE status = 'pending' AND channel = ANY($1::text[])`,
      [[...channels], error, now],
    );
    return r.rowCount ?? 0;
  },
  async rememberInteraction(q: Sql, key: string, now: number, forgetBefore: number): Promise<boolean> {
    await q.query('DELETE FROM chat_interactions WHERE seen_at < $1', [forgetBefore]);
    return (await q.query('INSERT INTO chat_interactions (key, seen_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, now])).rowCount === 1;
  },
};
