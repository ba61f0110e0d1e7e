import type { ActionRecord } from '../../../domain/action-record.js';
import type { Status } from '../../../domain/status.js';
import type { ActionQuery } from '../../../ports/store.js';
import { audienceOf, normalizeRef } from '../action-audience.js';
import { instantOf, limitOf } from '../store-error.js';
// The row derivation is the SQLite store's: both stores index the same columns from the record.
import { rowOf } from '../sqlite/sqlite-rows.js';
import type { Sql } from './pg-connect.js';

type RecordRow = { record: string };
const records = (rows: RecordRow[]) => rows.map((r) => JSON.parse(r.record) as ActionRecord);
const first = (rows: RecordRow[]) => (rows[0] ? (JSON.parse(rows[0].record) as ActionRecord) : undefined);

/** Writes of `actions` and `action_audience`; they run inside the writer's transaction. */
export const actionWrites = {
  /** The row and its audience index in one statement (one round trip). */
  async insert(q: Sql, a: ActionRecord): Promise<void> {
    const r = rowOf(a);
    await q.query(
      `WITH a AS (
         INSERT INTO actions (id, status, mode, requester_id, idempotency_key, created_at, updated_at, expires_at, next_escalation_at, version, record)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id)
       INSERT INTO action_audience (principal, action_id) SELECT p, a.id FROM a, unnest($12::text[]) AS p`,
      [r.id, r.status, r.mode, r.requester_id, r.idempotency_key, r.created_at, r.updated_at, r.expires_at, r.next_escalation_at, r.version, r.record, audienceOf(a)],
    );
  },
  /**
   * Several new rows and their audience index in one statement: a batch of inserts costs
   * one round trip, however many it holds (unnest keeps their order).
   */
  async insertMany(q: Sql, list: readonly ActionRecord[]): Promise<void> {
    if (list.length === 1) return actionWrites.insert(q, list[0]!);
    const rows = list.map(rowOf);
    const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((r) => r[k]);
    const audience = list.map((a) => audienceOf(a));
    await q.query(
      `WITH a AS (
         INSERT INTO actions (id, status, mode, requester_id, idempotency_key, created_at, updated_at, expires_at, next_escalation_at, version, record)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::int[], $11::text[])
         RETURNING id)
       INSERT INTO action_audience (principal, action_id) SELECT x.p, a.id FROM unnest($12::text[], $13::text[]) AS x(id, p) JOIN a ON a.id = x.id`,
      [
        col('id'),
        col('status'),
        col('mode'),
        col('requester_id'),
        col('idempotency_key'),
        col('created_at'),
        col('updated_at'),
        col('expires_at'),
        col('next_escalation_at'),
        col('version'),
        col('record'),
        list.flatMap((a, i) => audience[i]!.map(() => a.id)),
        audience.flat(),
      ],
    );
  },
  /**
   * The compare-and-swap on version, with the audience index brought to the new record in
   * the same statement: rows no longer in it deleted, new ones added (never the same row twice).
   */
  async update(q: Sql, next: ActionRecord, expectedVersion: number): Promise<boolean> {
    const r = rowOf(next);
    const res = await q.query<{ n: number }>(
      `WITH u AS (
         UPDATE actions SET status = $2, updated_at = $3, expires_at = $4, next_escalation_at = $5, version = $6, record = $7
         WHERE id = $1 AND version = $8 RETURNING id),
       gone AS (DELETE FROM action_audience WHERE action_id IN (SELECT id FROM u) AND NOT (principal = ANY($9::text[]))),
       added AS (INSERT INTO action_audience (principal, action_id) SELECT p, u.id FROM u, unnest($9::text[]) AS p ON CONFLICT DO NOTHING)
       SELECT count(*)::int AS n FROM u`,
      [r.id, r.status, r.updated_at, r.expires_at, r.next_escalation_at, r.version, r.record, expectedVersion, audienceOf(next)],
    );
    return res.rows[0]?.n === 1;
  },
};

/** Reads of actions (on the pool, or inside a transaction). */
export const actionReads = {
  get: async (q: Sql, id: string) => first((await q.query<RecordRow>('SELECT record FROM actions WHERE id = $1', [id])).rows),
  byIdempotencyKey: async (q: Sql, requesterId: string, key: string) =>
    first((await q.query<RecordRow>('SELECT record FROM actions WHERE requester_id = $1 AND idempotency_key = $2', [requesterId, key])).rows),
  dueForExpiry: async (q: Sql, now: string, limit: number) =>
    records((await q.query<RecordRow>('SELECT record FROM actions WHERE expires_at <= $1 ORDER BY expires_at, id LIMIT $2', [instantOf(now, 'now'), limitOf(limit)])).rows),
  dueForEscalation: async (q: Sql, now: string, limit: number) =>
    records(
      (await q.query<RecordRow>('SELECT record FROM actions WHERE next_escalation_at <= $1 ORDER BY next_escalation_at, id LIMIT $2', [instantOf(now, 'now'), limitOf(limit)])).rows,
    ),
  withStatus: async (q: Sql, status: Status, limit: number) =>
    records((await q.query<RecordRow>('SELECT record FROM actions WHERE status = $1 ORDER BY created_at, id LIMIT $2', [status, limitOf(limit)])).rows),
  // Read from the actions_status index: no record is decoded. BIGINTs come back as strings.
  async countWithStatus(q: Sql, status: Status, cap: number): Promise<{ count: number; oldestCreatedAtMs: number | undefined }> {
    const { rows } = await q.query<{ n: string; oldest: string | null }>(
      'SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM (SELECT created_at FROM actions WHERE status = $1 ORDER BY created_at, id LIMIT $2) s',
      [status, limitOf(cap)],
    );
    const row = rows[0]!;
    return { count: Number(row.n), oldestCreatedAtMs: row.oldest === null ? undefined : Number(row.oldest) };
  },
  awaitingExecution: async (q: Sql, limit: number) =>
    records((await q.query<RecordRow>("SELECT record FROM actions WHERE status = 'approved' AND mode = 'execute' ORDER BY created_at, id LIMIT $1", [limitOf(limit)])).rows),

  /** Newest first, keyset-paginated on (created_at, id); lists are bound as arrays. */
  async list(q: Sql, query: ActionQuery): Promise<ActionRecord[]> {
    const limit = limitOf(query.limit);
    if (limit === 0 || query.status?.length === 0 || query.audience?.length === 0) return [];
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    const where: string[] = [];
    if (query.status) where.push(query.status.length === 1 ? `status = ${bind(query.status[0])}` : `status = ANY(${bind(query.status)}::text[])`);
    if (query.requesterId !== undefined) where.push(`requester_id = ${bind(query.requesterId)}`);
    if (query.audience) where.push(`id IN (SELECT action_id FROM action_audience WHERE principal = ANY(${bind(query.audience.map(normalizeRef))}::text[]))`);
    if (query.before) {
      const at = bind(instantOf(query.before.createdAt, 'before.createdAt'));
      where.push(`(created_at < ${at} OR (created_at = ${at} AND id < ${bind(query.before.id)}))`);
    }
    const sql = `SELECT record FROM actions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${bind(limit)}`;
    return records((await q.query<RecordRow>(sql, params)).rows);
  },
};
