import type { ChatMessage, Delivery, DeliveryAttempt, DeliveryOutcome, DeliveryQuery, DeliveryStatus, NewDelivery } from '../../../ports/channel-store.js';
import { instantOf, limitOf } from '../store-error.js';
import type { DeliveryRow } from '../store-rows.js';
import { deliveryOf, iso } from '../store-rows.js';
import type { SqliteDb, SqliteStatement } from './sqlite-db.js';

/** Statements over the channel tables (migration 3); writes run inside the writer's transaction. */
export interface ChannelTables {
  feedPosition(feed: string): number | undefined;
  startFeed(feed: string, seq: number): number;
  advanceFeed(feed: string, from: number, to: number, deliveries: readonly NewDelivery[], nowMs: number): boolean;
  claimDue(owner: string, nowMs: number, leaseMs: number, limit: number, skip: readonly string[]): Delivery[];
  messages(actionId: string, channel: string): ChatMessage[];
  finish(
    id: number,
    owner: string,
    outcome: DeliveryOutcome,
    attempt: DeliveryAttempt,
    messages?: { actionId: string; channel: string; list: readonly ChatMessage[] },
  ): DeliveryStatus | 'lost';
  list(q: DeliveryQuery): Delivery[];
  attempts(deliveryId: number): DeliveryAttempt[];
  rememberInteraction(key: string, nowMs: number, forgetBeforeMs: number): boolean;
  prune(beforeMs: number, limit: number): number;
  /** Pending deliveries of these channels become dead with `error`; returns how many. */
  cancelPending(channels: readonly string[], error: string, nowMs: number): number;
}

const COLS = 'id, channel, kind, action_id, event_key, event_type, payload, status, attempts, next_attempt_at, last_error, created_at, updated_at';

export function createChannelTables(db: SqliteDb): ChannelTables {
  const getFeed = db.prepare('SELECT seq FROM notify_cursors WHERE feed = ?');
  const initFeed = db.prepare('INSERT INTO notify_cursors (feed, seq) VALUES (?, ?) ON CONFLICT (feed) DO NOTHING');
  const moveFeed = db.prepare('UPDATE notify_cursors SET seq = @to WHERE feed = @feed AND seq = @from');
  const insertEvent = db.prepare(`INSERT INTO channel_deliveries (channel, kind, action_id, event_key, event_type, payload, status, next_attempt_at, created_at, updated_at)
    VALUES (@channel, 'event', @action_id, @event_key, @event_type, @payload, 'pending', @now, @now, @now)
    ON CONFLICT (channel, event_key) WHERE event_key IS NOT NULL DO NOTHING`);
  const upsertSync = db.prepare(`INSERT INTO channel_deliveries (channel, kind, action_id, status, next_attempt_at, created_at, updated_at)
    VALUES (@channel, 'sync', @action_id, 'pending', @now, @now, @now)
    ON CONFLICT (channel, action_id) WHERE kind = 'sync' AND status = 'pending'
    DO UPDATE SET next_attempt_at = min(next_attempt_at, excluded.next_attempt_at), updated_at = excluded.updated_at`);
  // The oldest pending delivery of each (channel, action) only: events of one action reach a webhook in order.
  const due = db.prepare(`SELECT ${COLS} FROM channel_deliveries AS d INDEXED BY channel_deliveries_due
    WHERE d.status = 'pending' AND d.next_attempt_at <= @now AND (d.lease_until IS NULL OR d.lease_until <= @now)
      AND d.channel NOT IN (SELECT value FROM json_each(@skip))
      AND NOT EXISTS (SELECT 1 FROM channel_deliveries AS o INDEXED BY channel_deliveries_order
        WHERE o.status = 'pending' AND o.channel = d.channel AND o.action_id = d.action_id AND o.id < d.id)
    ORDER BY d.next_attempt_at, d.id LIMIT @limit`);
  const lease = db.prepare('UPDATE channel_deliveries SET lease_until = @until, lease_owner = @owner WHERE id = @id');
  const leased = db.prepare('SELECT kind, action_id, status, attempts, lease_owner FROM channel_deliveries WHERE id = ?');
  const settle = db.prepare(`UPDATE channel_deliveries SET status = @status, attempts = @attempts, next_attempt_at = @next, last_error = @error,
    lease_until = NULL, lease_owner = NULL, updated_at = @now WHERE id = @id`);
  const actionVersion = db.prepare('SELECT version FROM actions WHERE id = ?');
  const selectMessages = db.prepare('SELECT target, ref, rendered_version, replied FROM channel_messages WHERE action_id = ? AND channel = ? ORDER BY target');
  const putMessage = db.prepare(`INSERT INTO channel_messages (action_id, channel, target, ref, rendered_version, replied) VALUES (@action_id, @channel, @target, @ref, @version, @replied)
    ON CONFLICT (action_id, channel, target) DO UPDATE SET ref = excluded.ref, rendered_version = excluded.rendered_version, replied = excluded.replied`);
  const addAttempt = db.prepare('INSERT INTO channel_attempts (delivery_id, attempt, ok, detail, duration_ms, at) VALUES (?, ?, ?, ?, ?, ?)');
  const selectAttempts = db.prepare('SELECT attempt, ok, detail, duration_ms, at FROM channel_attempts WHERE delivery_id = ? ORDER BY id');
  const remember = db.prepare('INSERT INTO chat_interactions (key, seen_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING');
  const forget = db.prepare('DELETE FROM chat_interactions WHERE seen_at < ?');
  const oldFinished = db.prepare("SELECT id FROM channel_deliveries INDEXED BY channel_deliveries_recent WHERE updated_at < ? AND status IN ('done', 'dead') ORDER BY updated_at, id LIMIT ?");
  const dropAttempts = db.prepare('DELETE FROM channel_attempts WHERE delivery_id = ?');
  const dropDelivery = db.prepare('DELETE FROM channel_deliveries WHERE id = ?');
  const cancel = db.prepare(`UPDATE channel_deliveries SET status = 'dead', last_error = @error, lease_until = NULL, lease_owner = NULL, updated_at = @now
    WHERE status = 'pending' AND channel IN (SELECT value FROM json_each(@channels))`);
  const lists = new Map<string, SqliteStatement>();

  function listStatement(q: DeliveryQuery): SqliteStatement {
    const key = `${+!!q.actionId}${+!!q.channel}${+!!q.status}${+(q.beforeId !== undefined)}`;
    let s = lists.get(key);
    if (!s) {
      const where: string[] = [];
      if (q.actionId) where.push('action_id = @action_id');
      if (q.channel) where.push('channel = @channel');
      if (q.status) where.push('status = @status');
      if (q.beforeId !== undefined) where.push('id < @before');
      s = db.prepare(`SELECT ${COLS} FROM channel_deliveries ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`);
      lists.set(key, s);
    }
    return s;
  }

  return {
    feedPosition(feed) {
      return (getFeed.get(feed) as { seq: number } | undefined)?.seq;
    },
    startFeed(feed, seq) {
      initFeed.run(feed, seq);
      return (getFeed.get(feed) as { seq: number }).seq;
    },
    advanceFeed(feed, from, to, deliveries, nowMs) {
      if (moveFeed.run({ feed, from, to }).changes === 0) return false;
      for (const d of deliveries) {
        if (d.kind === 'event') {
          insertEvent.run({ channel: d.channel, action_id: d.actionId, event_key: d.eventKey ?? null, event_type: d.eventType ?? null, payload: d.payload ?? null, now: nowMs });
        } else {
          upsertSync.run({ channel: d.channel, action_id: d.actionId, now: nowMs });
        }
      }
      return true;
    },
    claimDue(owner, nowMs, leaseMs, limit, skip) {
      const rows = due.all({ now: nowMs, limit: limitOf(limit), skip: JSON.stringify(skip) }) as DeliveryRow[];
      for (const r of rows) lease.run({ until: nowMs + leaseMs, owner, id: r.id });
      return rows.map(deliveryOf);
    },
    messages(actionId, channel) {
      return (selectMessages.all(actionId, channel) as Array<{ target: string; ref: string; rendered_version: number; replied: number }>).map((r) => ({
        target: r.target,
        ref: JSON.parse(r.ref) as Record<string, string>,
        renderedVersion: r.rendered_version,
        replied: r.replied,
      }));
    },
    finish(id, owner, outcome, attempt, messages) {
      const cur = leased.get(id) as { kind: Delivery['kind']; action_id: string; status: DeliveryStatus; attempts: number; lease_owner: string | null } | undefined;
      if (!cur || cur.status !== 'pending' || cur.lease_owner !== owner) return 'lost';
      const now = instantOf(attempt.at, 'attempt.at');
      const attempts = cur.attempts + 1;
      for (const m of messages?.list ?? []) {
        putMessage.run({ action_id: messages!.actionId, channel: messages!.channel, target: m.target, ref: JSON.stringify(m.ref), version: m.renderedVersion, replied: m.replied });
      }
      addAttempt.run(id, attempts, attempt.ok ? 1 : 0, attempt.detail ?? null, Math.max(0, Math.round(attempt.durationMs)), now);
      let status: DeliveryStatus = 'done';
      let next = now;
      let error: string | null = null;
      switch (outcome.type) {
        case 'done':
          if (cur.kind === 'sync') {
            // Reconciliation: the action moved on while this ran, so render again, now.
            const v = (actionVersion.get(cur.action_id) as { version: number } | undefined)?.version ?? 0;
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
      // A sync that stays pending starts its retry count afresh once it succeeded.
      const count = status === 'pending' && outcome.type === 'done' ? 0 : attempts;
      settle.run({ id, status, attempts: count, next, error, now });
      return status;
    },
    list(q) {
      const params: Record<string, unknown> = { limit: limitOf(q.limit) };
      if (q.actionId) params.action_id = q.actionId;
      if (q.channel) params.channel = q.channel;
      if (q.status) params.status = q.status;
      if (q.beforeId !== undefined) params.before = q.beforeId;
      return (listStatement(q).all(params) as DeliveryRow[]).map(deliveryOf);
    },
    attempts(deliveryId) {
      return (selectAttempts.all(deliveryId) as Array<{ attempt: number; ok: number; detail: string | null; duration_ms: number; at: number }>).map((r) => ({
        attempt: r.attempt,
        ok: r.ok === 1,
        ...(r.detail !== null ? { detail: r.detail } : {}),
        durationMs: r.duration_ms,
        at: iso(r.at),
      }));
    },
    cancelPending(channels, error, nowMs) {
      return cancel.run({ channels: JSON.stringify(channels), error, now: nowMs }).changes;
    },
    prune(beforeMs, limit) {
      const ids = (oldFinished.all(beforeMs, limitOf(limit)) as Array<{ id: number }>).map((r) => r.id);
      for (const id of ids) {
        dropAttempts.run(id);
        dropDelivery.run(id);
      }
      return ids.length;
    },
    rememberInteraction(key, nowMs, forgetBeforeMs) {
      forget.run(forgetBeforeMs);
      return remember.run(key, nowMs).changes === 1;
    },
  };
}
