import type { ActionRecord } from '../../../domain/action-record.js';
import type { Status } from '../../../domain/status.js';
import { audienceOf } from '../action-audience.js';
import type { SqliteDb } from './sqlite-db.js';
import type { ActionInsert } from './sqlite-packed-action.js';
import { recordWithSeqs } from './sqlite-packed-action.js';
import { recordOf, recordsOf, rowOf } from './sqlite-rows.js';

/** Prepared statements over `actions` and `action_audience`; writes run inside the writer's transaction. */
export interface ActionsTable {
  /** A new action, packed by the sending thread (sqlite-packed-action.ts), with its entries' sequence numbers. */
  insert(a: ActionInsert, auditSeqs: readonly number[]): void;
  /** The compare-and-swap: true when the stored version was `expectedVersion` and the row was replaced. */
  update(next: ActionRecord, expectedVersion: number): boolean;
  get(id: string): ActionRecord | undefined;
  byIdempotencyKey(requesterId: string, key: string): ActionRecord | undefined;
  dueForExpiry(nowMs: number, limit: number): ActionRecord[];
  dueForEscalation(nowMs: number, limit: number): ActionRecord[];
  withStatus(status: Status, limit: number): ActionRecord[];
  countWithStatus(status: Status, cap: number): { count: number; oldestCreatedAtMs: number | undefined };
  awaitingExecution(limit: number): ActionRecord[];
}

const COLUMNS = 'id, status, mode, requester_id, idempotency_key, created_at, updated_at, expires_at, next_escalation_at, version, record';

export function createActionsTable(db: SqliteDb): ActionsTable {
  const insert = db.prepare(`INSERT INTO actions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // Only the mutable columns: id, requester, creation time and idempotency key are fixed at insert.
  const update = db.prepare(`UPDATE actions SET status = @status, updated_at = @updated_at, expires_at = @expires_at,
    next_escalation_at = @next_escalation_at, version = @version, record = @record WHERE id = @id AND version = @expected`);
  const get = db.prepare('SELECT record FROM actions WHERE id = ?');
  const byKey = db.prepare('SELECT record FROM actions WHERE requester_id = ? AND idempotency_key = ?');
  // Only pending rows have these times (rowOf), so the partial indexes hold exactly the candidates.
  const expiry = db.prepare('SELECT record FROM actions WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?');
  const escalation = db.prepare('SELECT record FROM actions WHERE next_escalation_at <= ? ORDER BY next_escalation_at, id LIMIT ?');
  const status = db.prepare('SELECT record FROM actions WHERE status = ? ORDER BY created_at, id LIMIT ?');
  // Read from the actions_status index alone: no record is decoded.
  const count = db.prepare('SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM (SELECT created_at FROM actions WHERE status = ? ORDER BY created_at, id LIMIT ?)');
  const toRun = db.prepare("SELECT record FROM actions INDEXED BY actions_to_run WHERE status = 'approved' AND mode = 'execute' ORDER BY created_at, id LIMIT ?");
  const clearAudience = db.prepare('DELETE FROM action_audience WHERE action_id = ?');
  const addAudience = db.prepare('INSERT INTO action_audience (principal, action_id) VALUES (?, ?)');

  function writeAudience(id: string, audience: readonly string[], replace: boolean): void {
    if (replace) clearAudience.run(id);
    for (const ref of audience) addAudience.run(ref, id);
  }

  const one = (row: unknown) => (row === undefined ? undefined : recordOf(row as { record: string }));

  return {
    insert(a, auditSeqs) {
      const r = a.row;
      insert.run(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], recordWithSeqs(r[10], auditSeqs));
      writeAudience(r[0], a.audience, false);
    },
    update(next, expectedVersion) {
      if (update.run({ ...rowOf(next), expected: expectedVersion }).changes === 0) return false;
      writeAudience(next.id, audienceOf(next), true);
      return true;
    },
    get: (id) => one(get.get(id)),
    byIdempotencyKey: (requesterId, key) => one(byKey.get(requesterId, key)),
    dueForExpiry: (nowMs, limit) => recordsOf(expiry.all(nowMs, limit)),
    dueForEscalation: (nowMs, limit) => recordsOf(escalation.all(nowMs, limit)),
    withStatus: (s, limit) => recordsOf(status.all(s, limit)),
    countWithStatus(s, cap) {
      const row = count.get(s, cap) as { n: number; oldest: number | null };
      return { count: row.n, oldestCreatedAtMs: row.oldest ?? undefined };
    },
    awaitingExecution: (limit) => recordsOf(toRun.all(limit)),
  };
}
