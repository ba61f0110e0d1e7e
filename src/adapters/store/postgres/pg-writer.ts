import pg from 'pg';
import { AppError } from '../../../domain/errors.js';
import { storageError } from '../store-error.js';
import { emptyPending, flushPending, pendingStatements } from './pg-audit.js';
import type { PgWriteArgs, PgWriteName, PgWriteResult, Tx } from './pg-write-ops.js';
import { PG_WRITES, flushActions } from './pg-write-ops.js';
import type { PgTreeAppender } from './pg-tree.js';
import { CATCH_UP_MAX } from './pg-tree.js';

export interface PgWriter {
  /** Runs the named write in the next batch's transaction; resolves once it committed. */
  submit<K extends PgWriteName>(op: K, args: PgWriteArgs<K>): Promise<PgWriteResult<K>>;
  /** Commits everything queued, then refuses new writes. */
  drain(): Promise<void>;
}

interface Job {
  op: PgWriteName;
  args: unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const guarded = new WeakSet<pg.PoolClient>();
/**
 * A server that ends a connection between two statements of a batch (a restart,
 * pg_terminate_backend) makes the client emit 'error' while the pool is not listening:
 * unhandled, that would end the process. The statement in flight fails anyway.
 */
function guard(c: pg.PoolClient): void {
  if (guarded.has(c)) return;
  guarded.add(c);
  c.on('error', () => undefined);
}

async function run(tx: Tx, job: Job): Promise<unknown> {
  const w = PG_WRITES[job.op];
  // A write that may read or reference the batch's new actions sees them sent first.
  if (!('batched' in w)) await flushActions(tx);
  return (w.run as (tx: Tx, a: unknown) => Promise<unknown>)(tx, job.args);
}

/** Everything the batch buffered: new actions, then the log's entries and tree nodes. */
async function flushAll(tx: Tx): Promise<void> {
  await flushActions(tx);
  await flushPending(tx.q, tx.pending);
}

/**
 * Group commit on PostgreSQL. One batch at a time per replica: writes requested while a
 * batch runs wait and go together in the next one, so a busy replica pays one commit
 * (and one hold of the sequencer) for many writes, and an idle one starts at once.
 *
 * - A batch is BEGIN; [the sequencer's row lock, if a write needs it]; the writes (new
 *   actions buffered and sent in one statement, see flushActions); the log's entries and
 *   tree nodes (one INSERT each); [head update; NOTIFY of the actions changed]; COMMIT.
 *   BEGIN goes with the lock, and the log's rows, the head, NOTIFY and COMMIT go together
 *   (the simple query protocol, literals escaped), so a batch costs a few round trips
 *   whatever it holds. Every promise settles after
 *   COMMIT returned: an acknowledged write is durable (synchronous_commit is the server's).
 * - Optimistic first, without savepoints; if a write throws, the transaction is rolled
 *   back and the batch replayed with one SAVEPOINT per write, so that the failing write
 *   is undone alone. Writes depend only on the database state, so the replay is exact.
 * - If BEGIN or COMMIT fails (the server went away), every write of the batch fails
 *   with STORAGE_ERROR and nothing of it is kept; the connection is thrown away and the
 *   next batch opens a fresh one, so the store recovers by itself when the server returns.
 */
export function createPgWriter(pool: pg.Pool, tree: PgTreeAppender, channel: string, maxBatch: number): PgWriter {
  let queue: Job[] = [];
  let running: Promise<void> | undefined;
  let closed = false;

  async function attempt(c: pg.PoolClient, batch: Job[], savepoints: boolean): Promise<Outcome[] | undefined> {
    const outcomes: Outcome[] = [];
    const changed = new Set<string>();
    const needsLog = batch.some((j) => PG_WRITES[j.op].log);
    // BEGIN and the sequencer's lock in one round trip (simple query protocol: no parameters).
    const locked = needsLog ? await beginLocked(c, tree.cachedSize()) : (await c.query('BEGIN'), undefined);
    const start = locked?.next;
    if (locked) await tree.load(c, locked.next, locked.leaves);
    const tx: Tx = { q: c, head: start === undefined ? undefined : { next: start }, tree, pending: emptyPending(), changed, actions: [] };
    for (const job of batch) {
      if (!savepoints) {
        try {
          outcomes.push({ ok: true, value: await run(tx, job) });
        } catch {
          tree.invalidate();
          await c.query('ROLLBACK');
          return undefined;
        }
        continue;
      }
      const before = tx.head?.next;
      const changedBefore = new Set(changed);
      await c.query('SAVEPOINT w');
      try {
        const value = await run(tx, job);
        // Each write's rows are sent inside its own savepoint, so a failure undoes it alone.
        await flushAll(tx);
        outcomes.push({ ok: true, value });
        await c.query('RELEASE w');
      } catch (error) {
        outcomes.push({ ok: false, error });
        tx.pending = emptyPending();
        tx.actions = [];
        await c.query('ROLLBACK TO w');
        await c.query('RELEASE w');
        if (tx.head) tx.head.next = before!;
        changed.clear();
        for (const id of changedBefore) changed.add(id);
        tree.invalidate();
        if (tx.head) await tree.load(c, tx.head.next);
      }
    }
    if (!savepoints) {
      try {
        await flushActions(tx);
      } catch {
        tree.invalidate();
        await c.query('ROLLBACK');
        return undefined;
      }
    }
    // The log's entries and tree nodes, the head, the NOTIFY (delivered at COMMIT to every
    // replica LISTENing: waiters there re-read the action) and COMMIT in one round trip;
    // the values are literals, escaped.
    // The log's rows go with them (already sent, per write, when replaying with savepoints).
    const tail: string[] = pendingStatements(tx.pending, (v) => pg.escapeLiteral(v));
    if (tx.head && tx.head.next !== start) tail.push(`UPDATE audit_head SET next_seq = ${safeInteger(tx.head.next)} WHERE id`);
    for (const payload of changed.size ? notifyPayloads([...changed]) : []) tail.push(`SELECT pg_notify(${pg.escapeLiteral(channel)}, ${pg.escapeLiteral(payload)})`);
    tail.push('COMMIT');
    await c.query(tail.join('; '));
    return outcomes;
  }

  async function flush(batch: Job[]): Promise<void> {
    let c: pg.PoolClient | undefined;
    let outcomes: Outcome[] | undefined;
    try {
      c = await pool.connect();
      guard(c);
      outcomes = (await attempt(c, batch, false)) ?? (await attempt(c, batch, true));
      c.release();
    } catch (e) {
      tree.invalidate();
      if (c) {
        await c.query('ROLLBACK').catch(() => undefined);
        // A connection that failed mid-transaction is not trusted again.
        c.release(e instanceof Error ? e : new Error(String(e)));
      }
      const failed = storageError(e);
      for (const job of batch) job.reject(failed);
      return;
    }
    batch.forEach((job, i) => {
      const o = outcomes![i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(storageError(o.error));
    });
  }

  function pump(): void {
    if (running || queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    running = flush(batch).finally(() => {
      running = undefined;
      pump();
    });
  }

  let scheduled = false;
  return {
    submit<K extends PgWriteName>(op: K, args: PgWriteArgs<K>): Promise<PgWriteResult<K>> {
      if (closed) return Promise.reject(new AppError('STORAGE_ERROR', 'The store is closed'));
      return new Promise<PgWriteResult<K>>((resolve, reject) => {
        queue.push({ op, args, resolve: resolve as (v: unknown) => void, reject });
        // Writes requested in the same event-loop turn join one batch.
        if (!scheduled && !running) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
        }
      });
    },
    async drain() {
      closed = true;
      while (running || queue.length) {
        pump();
        await running;
      }
    },
  };
}

/**
 * BEGIN, the sequencer's lock and, when the tree's edge is cached at `cached`, the leaves
 * other replicas appended since (all committed: their writers held the lock before us;
 * READ COMMITTED gives each statement a fresh snapshot), in one round trip.
 */
async function beginLocked(c: pg.PoolClient, cached: number | undefined): Promise<{ next: number; leaves?: Uint8Array[] }> {
  const leavesSql = cached === undefined ? '' : `; SELECT leaf_hash FROM audit_entries WHERE seq >= ${safeInteger(cached)} ORDER BY seq LIMIT ${CATCH_UP_MAX + 1}`;
  const r = (await c.query(`BEGIN; SELECT next_seq FROM audit_head WHERE id FOR UPDATE${leavesSql}`)) as unknown as pg.QueryResult<Record<string, unknown>>[];
  const row = r[1]?.rows[0] as { next_seq: string | number } | undefined;
  if (!row) throw new Error('the audit sequencer row is missing');
  const next = safeInteger(Number(row.next_seq));
  return r[2] ? { next, leaves: (r[2].rows as Array<{ leaf_hash: Buffer }>).map((x) => x.leaf_hash) } : { next };
}

function safeInteger(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a sequence number: ${n}`);
  return n;
}

/** Action ids as NOTIFY payloads (space-separated, each under PostgreSQL's 8,000-byte limit). */
export function notifyPayloads(ids: readonly string[]): string[] {
  const out: string[] = [];
  let cur = '';
  for (const id of ids) {
    if (cur && cur.length + 1 + Buffer.byteLength(id) > 7900) {
      out.push(cur);
      cur = '';
    }
    cur = cur ? `${cur} ${id}` : id;
  }
  if (cur) out.push(cur);
  return out;
}
