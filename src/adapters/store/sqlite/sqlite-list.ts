import type { ActionRecord } from '../../../domain/action-record.js';
import type { ActionQuery } from '../../../ports/store.js';
import { normalizeRef } from '../action-audience.js';
import { instantOf, limitOf } from '../store-error.js';
import type { SqliteDb, SqliteStatement } from './sqlite-db.js';
import { recordsOf } from './sqlite-rows.js';

/**
 * `listActions`: newest first, keyset-paginated on (created_at, id). Lists are bound as
 * one JSON array parameter (json_each) so that a query has one statement per
 * combination of filters, prepared once, whatever the lists' lengths. One status is
 * bound as a plain value: the (status, created_at, id) index then yields rows already
 * in order, where a list needs a sort.
 */
export function createActionLister(db: SqliteDb): (q: ActionQuery) => ActionRecord[] {
  const cache = new Map<string, SqliteStatement>();

  function statement(statuses: 'none' | 'one' | 'many', hasRequester: boolean, hasAudience: boolean, hasCursor: boolean): SqliteStatement {
    const key = `${statuses}${+hasRequester}${+hasAudience}${+hasCursor}`;
    let stmt = cache.get(key);
    if (!stmt) {
      const where: string[] = [];
      if (statuses === 'one') where.push('status = @status');
      if (statuses === 'many') where.push('status IN (SELECT value FROM json_each(@statuses))');
      if (hasRequester) where.push('requester_id = @requester');
      if (hasAudience) where.push('id IN (SELECT action_id FROM action_audience WHERE principal IN (SELECT value FROM json_each(@audience)))');
      if (hasCursor) where.push('(created_at < @before_at OR (created_at = @before_at AND id < @before_id))');
      const sql = `SELECT record FROM actions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT @limit`;
      stmt = db.prepare(sql);
      cache.set(key, stmt);
    }
    return stmt;
  }

  return (q) => {
    const limit = limitOf(q.limit);
    // An empty list matches nothing (as `IN ()` would), rather than lifting the filter.
    if (limit === 0 || q.status?.length === 0 || q.audience?.length === 0) return [];
    const params: Record<string, unknown> = { limit };
    const statuses = !q.status ? 'none' : q.status.length === 1 ? 'one' : 'many';
    if (statuses === 'one') params.status = q.status![0];
    if (statuses === 'many') params.statuses = JSON.stringify(q.status);
    if (q.requesterId !== undefined) params.requester = q.requesterId;
    if (q.audience) params.audience = JSON.stringify(q.audience.map(normalizeRef));
    if (q.before) {
      params.before_at = instantOf(q.before.createdAt, 'before.createdAt');
      params.before_id = q.before.id;
    }
    return recordsOf(statement(statuses, q.requesterId !== undefined, !!q.audience, !!q.before).all(params));
  };
}
