import type pg from 'pg';
import { AppError } from '../../../domain/errors.js';
import { storageError } from '../store-error.js';
import { emptyPending, flushPending, lockHead, saveHead } from './pg-audit.js';
import type { PgWriteArgs, PgWriteName, PgWriteResult, Tx } from './pg-write-ops.js';
import { PG_WRITES } from './pg-write-ops.js';
import type { PgTreeAppender } from './pg-tree.js';

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

const run = (tx: Tx, job: Job) => (PG_WRITES[job.op].run as (tx: Tx, a: unknown) => Promise<unknown>)(tx, job.args);

/**
 * Group commit on PostgreSQL. One batch at a time per replica: writes requested while a
 * batch runs wait and go together in the next one, so a busy replica pays one commit
 * (and one hold of the sequencer) for many writes, and an idle one starts at once.
 *
 * - A batch is BEGIN; [the sequencer's row lock, if a write needs it]; the writes;
 *   [head update; NOTIFY of the actions changed]; COMMIT. Every promise settles after
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
    await c.query('BEGIN');
    const needsLog = batch.some((j) => PG_WRITES[j.op].log);
    const start = needsLog ? await lockHead(c) : undefined;
    if (start !== undefined) await tree.load(c, start);
    const tx: Tx = { q: c, head: start === undefined ? undefined : { next: start }, tree, pending: emptyPending(), changed };
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
        await flushPending(c, tx.pending);
        outcomes.push({ ok: true, value });
        await c.query('RELEASE w');
      } catch (error) {
        outcomes.push({ ok: false, error });
        tx.pending = emptyPending();
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
        await flushPending(c, tx.pending);
      } catch {
        tree.invalidate();
        await c.query('ROLLBACK');
        return undefined;
      }
    }
    if (tx.head && tx.head.next !== start) await saveHead(c, tx.head.next);
    // Delivered at COMMIT, to every replica LISTENing: waiters there re-read the action.
    if (changed.size) await c.query('SELECT pg_notify($1, x) FROM unnest($2::text[]) AS x', [channel, notifyPayloads([...changed])]);
    await c.query('COMMIT');
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
