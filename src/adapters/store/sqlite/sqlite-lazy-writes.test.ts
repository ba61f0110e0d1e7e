import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SqliteDb } from './sqlite-db.js';
import { openSqlite } from './sqlite-db.js';
import { LAZY_WRITES } from './sqlite-lazy-writes.js';
import type { WriteOps } from './sqlite-write-ops.js';
import { createInlineWriter } from './sqlite-writer.js';

const dirs: string[] = [];
const dbs: SqliteDb[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A writer whose writes answer the connection's `synchronous` setting inside their transaction (1 NORMAL, 2 FULL). */
function writer() {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-lazy-writes-'));
  dirs.push(dir);
  const db = openSqlite(join(dir, 'l.db'), 1000);
  dbs.push(db);
  const sync = () => db.pragma('synchronous', { simple: true }) as number;
  const ops = { cycleDeliveries: sync, pruneDeliveries: sync, insertAction: sync, updateAction: sync } as unknown as WriteOps;
  return createInlineWriter(db, ops, 128);
}

describe('delivery bookkeeping commits without an fsync, decisions with one', () => {
  it('only the dispatcher\'s bookkeeping is lazy: nothing that writes a decision or the audit log', () => {
    expect([...LAZY_WRITES].sort()).toEqual(['cycleDeliveries', 'pruneDeliveries']);
  });

  it('a batch of bookkeeping alone commits with synchronous=NORMAL; a decision alone with FULL', async () => {
    const w = writer();
    expect(await w.submit('cycleDeliveries', { now: '2026-01-01T00:00:00.000Z' })).toBe(1);
    expect(await w.submit('insertAction', {} as never)).toBe(2);
    expect(await w.submit('pruneDeliveries', { before: '2026-01-01T00:00:00.000Z', limit: 1 })).toBe(1);
    expect(await w.submit('updateAction', {} as never)).toBe(2);
  });

  it('bookkeeping that shares a batch with a decision commits with FULL, like the decision', async () => {
    const w = writer();
    // Submitted in one event-loop turn: one batch, one transaction.
    const [round, decision] = await Promise.all([w.submit('cycleDeliveries', { now: '2026-01-01T00:00:00.000Z' }), w.submit('insertAction', {} as never)]);
    expect([round, decision]).toEqual([2, 2]);
  });
});
