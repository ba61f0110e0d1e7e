import type { ActionRecord } from '../../../domain/action-record.js';
import type { Grant } from '../../../domain/grant.js';
import type { GrantEndReason } from '../../../domain/grant-end.js';
import { endedFields } from '../../../domain/grant-end.js';
import { grantAudienceOf } from '../../../domain/grant-access.js';
import type { CounterHit } from '../../../domain/history-types.js';
import { hasActed, qualifies } from '../../../domain/history-types.js';
import type { CounterRead } from '../../../ports/history-store.js';
import { instantOf } from '../store-error.js';
import type { SqliteDb } from './sqlite-db.js';
import type { ActionFacts } from './sqlite-packed-action.js';
import { recordsOf } from './sqlite-rows.js';

/** Prepared statements over `counter_hits`, `acted_pairs` and `grants` (migration 5). */
export interface HistoryTables {
  /** Indexes a written record's hits and acted pair (ports/history-store.ts); runs inside the write's transaction. */
  index(a: ActionFacts): void;
  readHits(cursor: number, sinceMs: number, limit: number): { hits: CounterHit[]; cursor: number };
  readActed(cursor: number, limit: number): { pairs: Array<{ agent: string; target: string }>; cursor: number };
  scan(fromMs: number, toMs: number, after: { createdAt: string; id: string } | undefined, limit: number): ActionRecord[];
  count(fromMs: number, toMs: number): number;
  insertGrant(g: Grant): void;
  /** Whether no counter a decision read holds more weight in its window than the decision saw (DecisionChecks). */
  countersHold(reads: readonly CounterRead[]): boolean;
  /** The CAS on a grant's uses; true when it was used. */
  useGrant(id: string, expectedUses: number, nowMs: number): boolean;
  revokeGrant(id: string, by: string, reason: string | undefined, atMs: number, at: string): boolean;
  grant(id: string): Grant | undefined;
  /** Marks a grant ended unless it already is (with `only`: only if used up or expired by then); the grant as ended, or undefined. */
  endGrant(id: string, e: { reason: GrantEndReason; at: string }, only?: 'used-up' | 'expired'): Grant | undefined;
  openGrants(limit: number): Grant[];
  /** Newest first; with `audience`, only grants indexed under one of those keys (grantAudienceOf). */
  grants(limit: number, usableAt: number | undefined, audience?: readonly string[]): Grant[];
  grantsFor(agent: string, target: string, nowMs: number): Grant[];
}

interface GrantRow {
  record: string;
  uses: number;
}

function grantOf(row: GrantRow): Grant {
  return { ...(JSON.parse(row.record) as Grant), uses: row.uses };
}

export function createHistoryTables(db: SqliteDb): HistoryTables {
  const hit = db.prepare('INSERT OR IGNORE INTO counter_hits (action_id, counter, key, weight, at) VALUES (?, ?, ?, ?, ?)');
  const acted = db.prepare('INSERT OR IGNORE INTO acted_pairs (agent, target, first_at) VALUES (?, ?, ?)');
  const hits = db.prepare('SELECT rowid AS n, action_id, counter, key, weight, at FROM counter_hits WHERE rowid > ? AND at >= ? ORDER BY rowid LIMIT ?');
  const pairs = db.prepare('SELECT rowid AS n, agent, target FROM acted_pairs WHERE rowid > ? ORDER BY rowid LIMIT ?');
  const scanFirst = db.prepare('SELECT record FROM actions WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?');
  const scanAfter = db.prepare('SELECT record FROM actions WHERE created_at < ? AND (created_at > ? OR (created_at = ? AND id > ?)) AND created_at >= ? ORDER BY created_at, id LIMIT ?');
  const count = db.prepare('SELECT COUNT(*) AS n FROM actions WHERE created_at >= ? AND created_at < ?');
  const weightSince = db.prepare('SELECT coalesce(sum(weight), 0) AS n FROM counter_hits WHERE counter = ? AND key = ? AND at > ?');
  const insertGrant = db.prepare('INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record, audience_indexed) VALUES (?, ?, ?, ?, ?, ?, 0, ?, 1)');
  const useGrant = db.prepare('UPDATE grants SET uses = uses + 1 WHERE id = ? AND uses = ? AND uses < max_uses AND revoked_at IS NULL AND ended_at IS NULL AND expires_at > ?');
  const revoke = db.prepare(`UPDATE grants SET revoked_at = ?, record = json_set(record, '$.revokedAt', ?, '$.revokedBy', ?, '$.revokeReason', ?) WHERE id = ? AND revoked_at IS NULL`);
  const one = db.prepare('SELECT record, uses FROM grants WHERE id = ?');
  const endSql = (cond: string) =>
    db.prepare(`UPDATE grants SET ended_at = ?, record = json_set(record, '$.endedAt', ?, '$.endReason', ?) WHERE id = ? AND ended_at IS NULL${cond} RETURNING record, uses`);
  const end = { any: endSql(''), 'used-up': endSql(' AND uses >= max_uses'), expired: endSql(' AND expires_at <= ?') };
  const open = db.prepare('SELECT record, uses FROM grants WHERE ended_at IS NULL ORDER BY expires_at, id LIMIT ?');
  const addAudience = db.prepare('INSERT OR IGNORE INTO grant_audience (principal, grant_id) VALUES (?, ?)');
  const listing = (usable: boolean, audience: boolean) => {
    const where = [
      ...(usable ? ['revoked_at IS NULL AND ended_at IS NULL AND expires_at > @usableAt AND uses < max_uses'] : []),
      // Grants an earlier release wrote during a rolling upgrade have no audience rows: considered too.
      ...(audience ? ['id IN (SELECT grant_id FROM grant_audience WHERE principal IN (SELECT value FROM json_each(@audience)) UNION SELECT id FROM grants WHERE audience_indexed IS NULL)'] : []),
    ];
    return db.prepare(`SELECT record, uses FROM grants${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT @limit`);
  };
  const listings = [listing(false, false), listing(true, false), listing(false, true), listing(true, true)];
  const forPair = db.prepare('SELECT record, uses FROM grants WHERE agent = ? AND target = ? AND expires_at > ? AND revoked_at IS NULL AND ended_at IS NULL AND uses < max_uses ORDER BY created_at, id');
  return {
    index(a) {
      if (!hasActed(a.status) && !a.tally?.length) return;
      const at = instantOf(a.updatedAt, 'updatedAt');
      for (const t of a.tally ?? []) if (qualifies(t.on, a.status)) hit.run(a.id, t.counter, t.key, t.weight, at);
      if (hasActed(a.status)) acted.run(a.requester.id, a.target, at);
    },
    readHits(cursor, sinceMs, limit) {
      const rows = hits.all(cursor, sinceMs, limit) as Array<{ n: number; action_id: string; counter: string; key: string; weight: number; at: number }>;
      return {
        hits: rows.map((r) => ({ actionId: r.action_id, counter: r.counter, key: r.key, weight: r.weight, atMs: r.at })),
        cursor: rows.length ? rows[rows.length - 1]!.n : cursor,
      };
    },
    readActed(cursor, limit) {
      const rows = pairs.all(cursor, limit) as Array<{ n: number; agent: string; target: string }>;
      return { pairs: rows.map((r) => ({ agent: r.agent, target: r.target })), cursor: rows.length ? rows[rows.length - 1]!.n : cursor };
    },
    scan(fromMs, toMs, after, limit) {
      if (!after) return recordsOf(scanFirst.all(fromMs, toMs, limit));
      const at = instantOf(after.createdAt, 'after.createdAt');
      return recordsOf(scanAfter.all(toMs, at, at, after.id, fromMs, limit));
    },
    count: (fromMs, toMs) => (count.get(fromMs, toMs) as { n: number }).n,
    insertGrant(g) {
      insertGrant.run(g.id, g.agent, g.target, instantOf(g.createdAt, 'createdAt'), instantOf(g.expiresAt, 'expiresAt'), g.maxUses, JSON.stringify({ ...g, uses: 0 }));
      for (const key of grantAudienceOf(g)) addAudience.run(key, g.id);
    },
    countersHold: (reads) => reads.every((r) => (weightSince.get(r.counter, r.key, r.sinceMs) as { n: number }).n <= r.seen),
    useGrant: (id, expectedUses, nowMs) => useGrant.run(id, expectedUses, nowMs).changes === 1,
    revokeGrant: (id, by, reason, atMs, at) => revoke.run(atMs, at, by, reason ?? null, id).changes === 1,
    grant(id) {
      const row = one.get(id) as GrantRow | undefined;
      return row ? grantOf(row) : undefined;
    },
    endGrant(id, e, only) {
      const f = endedFields(e);
      const atMs = instantOf(e.at, 'at');
      const args = [atMs, f.endedAt, f.endReason, id, ...(only === 'expired' ? [atMs] : [])];
      const row = end[only ?? 'any'].get(...args) as GrantRow | undefined;
      return row ? grantOf(row) : undefined;
    },
    openGrants: (limit) => (open.all(limit) as GrantRow[]).map(grantOf),
    grants(limit, usableAt, audience) {
      const params = { limit, ...(usableAt !== undefined ? { usableAt } : {}), ...(audience ? { audience: JSON.stringify(audience) } : {}) };
      return (listings[(usableAt !== undefined ? 1 : 0) + (audience ? 2 : 0)]!.all(params) as GrantRow[]).map(grantOf);
    },
    grantsFor: (agent, target, nowMs) => (forPair.all(agent, target, nowMs) as GrantRow[]).map(grantOf),
  };
}
