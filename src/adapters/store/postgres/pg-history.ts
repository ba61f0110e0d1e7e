import type { ActionRecord } from '../../../domain/action-record.js';
import type { Grant } from '../../../domain/grant.js';
import type { GrantEndReason } from '../../../domain/grant-end.js';
import { endedFields } from '../../../domain/grant-end.js';
import { grantAudienceOf } from '../../../domain/grant-access.js';
import type { CounterHit } from '../../../domain/history-types.js';
import { hasActed, qualifies } from '../../../domain/history-types.js';
import type { CounterRead } from '../../../ports/history-store.js';
import { instantOf, limitOf } from '../store-error.js';
import type { Sql } from './pg-connect.js';

type RecordRow = { record: string };
type GrantRow = { record: string; uses: number };

const grantOf = (r: GrantRow): Grant => ({ ...(JSON.parse(r.record) as Grant), uses: r.uses });
const records = (rows: RecordRow[]) => rows.map((r) => JSON.parse(r.record) as ActionRecord);

/** Counter hits, first times and grants (migration 4); writes run inside the writer's transaction. */
export const historySql = {
  /**
   * Indexes a written record's hits and acted pair (ports/history-store.ts), in the write's
   * transaction. The caller holds the sequencer, so `n` grows in commit order.
   */
  async index(q: Sql, a: ActionRecord): Promise<void> {
    if (!hasActed(a.status) && !a.tally?.length) return;
    const at = instantOf(a.updatedAt, 'updatedAt');
    const hits = (a.tally ?? []).filter((t) => qualifies(t.on, a.status));
    if (hits.length) {
      await q.query(
        `INSERT INTO counter_hits (action_id, counter, key, weight, at)
         SELECT $1, c, k, w, $5 FROM unnest($2::text[], $3::text[], $4::int[]) WITH ORDINALITY AS t(c, k, w, i) ORDER BY i
         ON CONFLICT (action_id, counter) DO NOTHING`,
        [a.id, hits.map((t) => t.counter), hits.map((t) => t.key), hits.map((t) => t.weight), at],
      );
    }
    if (hasActed(a.status)) {
      await q.query('INSERT INTO acted_pairs (agent, target, first_at) VALUES ($1, $2, $3) ON CONFLICT (agent, target) DO NOTHING', [a.requester.id, a.target, at]);
    }
  },
  /** `index` of several records in two statements at most, in their order (pg-write-ops.ts batches new actions). */
  async indexMany(q: Sql, list: readonly ActionRecord[]): Promise<void> {
    if (list.length === 1) return historySql.index(q, list[0]!);
    const hits = list.flatMap((a) => (a.tally ?? []).filter((t) => qualifies(t.on, a.status)).map((t) => ({ a, t })));
    if (hits.length) {
      await q.query(
        `INSERT INTO counter_hits (action_id, counter, key, weight, at)
         SELECT a, c, k, w, t FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[]) WITH ORDINALITY AS x(a, c, k, w, t, i) ORDER BY i
         ON CONFLICT (action_id, counter) DO NOTHING`,
        [hits.map((h) => h.a.id), hits.map((h) => h.t.counter), hits.map((h) => h.t.key), hits.map((h) => h.t.weight), hits.map((h) => instantOf(h.a.updatedAt, 'updatedAt'))],
      );
    }
    const acted = list.filter((a) => hasActed(a.status));
    if (acted.length) {
      await q.query(
        `INSERT INTO acted_pairs (agent, target, first_at)
         SELECT g, t, f FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY AS x(g, t, f, i) ORDER BY i
         ON CONFLICT (agent, target) DO NOTHING`,
        [acted.map((a) => a.requester.id), acted.map((a) => a.target), acted.map((a) => instantOf(a.updatedAt, 'updatedAt'))],
      );
    }
  },
  async readHits(q: Sql, cursor: number, sinceMs: number, limit: number): Promise<{ hits: CounterHit[]; cursor: number }> {
    const rows = (
      await q.query<{ n: number; action_id: string; counter: string; key: string; weight: number; at: number }>(
        'SELECT n, action_id, counter, key, weight, at FROM counter_hits WHERE n > $1 AND at >= $2 ORDER BY n LIMIT $3',
        [cursor, sinceMs, limitOf(limit)],
      )
    ).rows;
    return {
      hits: rows.map((r) => ({ actionId: r.action_id, counter: r.counter, key: r.key, weight: r.weight, atMs: r.at })),
      cursor: rows.length ? rows[rows.length - 1]!.n : cursor,
    };
  },
  async readActed(q: Sql, cursor: number, limit: number): Promise<{ pairs: Array<{ agent: string; target: string }>; cursor: number }> {
    const rows = (await q.query<{ n: number; agent: string; target: string }>('SELECT n, agent, target FROM acted_pairs WHERE n > $1 ORDER BY n LIMIT $2', [cursor, limitOf(limit)])).rows;
    return { pairs: rows.map((r) => ({ agent: r.agent, target: r.target })), cursor: rows.length ? rows[rows.length - 1]!.n : cursor };
  },
  async scan(q: Sql, fromMs: number, toMs: number, after: { createdAt: string; id: string } | undefined, limit: number): Promise<ActionRecord[]> {
    if (!after) {
      return records((await q.query<RecordRow>('SELECT record FROM actions WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id LIMIT $3', [fromMs, toMs, limitOf(limit)])).rows);
    }
    const at = instantOf(after.createdAt, 'after.createdAt');
    return records(
      (
        await q.query<RecordRow>('SELECT record FROM actions WHERE created_at >= $1 AND created_at < $2 AND (created_at, id) > ($3, $4) ORDER BY created_at, id LIMIT $5', [
          fromMs,
          toMs,
          at,
          after.id,
          limitOf(limit),
        ])
      ).rows,
    );
  },
  count: async (q: Sql, fromMs: number, toMs: number) =>
    (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM actions WHERE created_at >= $1 AND created_at < $2', [fromMs, toMs])).rows[0]!.n,

  async insertGrant(q: Sql, g: Grant): Promise<void> {
    await q.query(
      `WITH g AS (INSERT INTO grants (id, agent, target, created_at, expires_at, max_uses, uses, record, audience_indexed) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 1) RETURNING id)
       INSERT INTO grant_audience (principal, grant_id) SELECT p, g.id FROM g, unnest($8::text[]) AS p ON CONFLICT DO NOTHING`,
      [g.id, g.agent, g.target, instantOf(g.createdAt, 'createdAt'), instantOf(g.expiresAt, 'expiresAt'), g.maxUses, JSON.stringify({ ...g, uses: 0 }), grantAudienceOf(g)],
    );
  },
  /** Whether no counter a decision read holds more weight in its window than the decision saw (DecisionChecks). */
  async countersHold(q: Sql, reads: readonly CounterRead[]): Promise<boolean> {
    const r = await q.query<{ ok: boolean }>(
      `SELECT coalesce(bool_and(coalesce(s.n, 0) <= r.seen), true) AS ok
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) AS r(c, k, since, seen)
       LEFT JOIN LATERAL (SELECT sum(h.weight) AS n FROM counter_hits h WHERE h.counter = r.c AND h.key = r.k AND h.at > r.since) s ON true`,
      [reads.map((x) => x.counter), reads.map((x) => x.key), reads.map((x) => x.sinceMs), reads.map((x) => x.seen)],
    );
    return r.rows[0]!.ok;
  },
  /** The CAS on a grant's uses; true when it was used. */
  useGrant: async (q: Sql, id: string, expectedUses: number, nowMs: number) =>
    (await q.query('UPDATE grants SET uses = uses + 1 WHERE id = $1 AND uses = $2 AND uses < max_uses AND revoked_at IS NULL AND ended_at IS NULL AND expires_at > $3', [id, expectedUses, nowMs])).rowCount === 1,
  async revokeGrant(q: Sql, id: string, by: string, reason: string | undefined, at: string): Promise<boolean> {
    const fields = { revokedAt: at, revokedBy: by, ...(reason !== undefined ? { revokeReason: reason } : {}) };
    const r = await q.query('UPDATE grants SET revoked_at = $1, record = (record::jsonb || $2::jsonb)::text WHERE id = $3 AND revoked_at IS NULL', [
      instantOf(at, 'at'),
      JSON.stringify(fields),
      id,
    ]);
    return r.rowCount === 1;
  },
  /**
   * Marks a grant ended unless it already is (and, with `only`, only if it is used up or
   * expired by then); the grant as ended, or undefined when nothing changed.
   */
  async endGrant(q: Sql, id: string, e: { reason: GrantEndReason; at: string }, only?: 'used-up' | 'expired'): Promise<Grant | undefined> {
    const at = instantOf(e.at, 'at');
    const cond = only === 'used-up' ? ' AND uses >= max_uses' : only === 'expired' ? ' AND expires_at <= $1' : '';
    const r = await q.query<GrantRow>(`UPDATE grants SET ended_at = $1, record = (record::jsonb || $2::jsonb)::text WHERE id = $3 AND ended_at IS NULL${cond} RETURNING record, uses`, [
      at,
      JSON.stringify(endedFields(e)),
      id,
    ]);
    return r.rows[0] ? grantOf(r.rows[0]) : undefined;
  },
  openGrants: async (q: Sql, limit: number) =>
    (await q.query<GrantRow>('SELECT record, uses FROM grants WHERE ended_at IS NULL ORDER BY expires_at, id LIMIT $1', [limitOf(limit)])).rows.map(grantOf),
  grant: async (q: Sql, id: string) => {
    const row = (await q.query<GrantRow>('SELECT record, uses FROM grants WHERE id = $1', [id])).rows[0];
    return row ? grantOf(row) : undefined;
  },
  /** Newest first; with `audience`, only grants indexed under one of those keys (grantAudienceOf). */
  async grants(q: Sql, limit: number, usableAt: number | undefined, audience?: readonly string[]): Promise<Grant[]> {
    const params: unknown[] = [limitOf(limit)];
    const where: string[] = [];
    if (usableAt !== undefined) where.push(`revoked_at IS NULL AND ended_at IS NULL AND expires_at > $${params.push(usableAt)} AND uses < max_uses`);
    // Grants an earlier release wrote during a rolling upgrade have no audience rows: considered too.
    if (audience) where.push(`id IN (SELECT grant_id FROM grant_audience WHERE principal = ANY($${params.push(audience)}::text[]) UNION SELECT id FROM grants WHERE audience_indexed IS NULL)`);
    const sql = `SELECT record, uses FROM grants${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $1`;
    return (await q.query<GrantRow>(sql, params)).rows.map(grantOf);
  },
  grantsFor: async (q: Sql, agent: string, target: string, nowMs: number) =>
    (
      await q.query<GrantRow>('SELECT record, uses FROM grants WHERE agent = $1 AND target = $2 AND expires_at > $3 AND revoked_at IS NULL AND ended_at IS NULL AND uses < max_uses ORDER BY created_at, id', [
        agent,
        target,
        nowMs,
      ])
    ).rows.map(grantOf),
};
