import { AppError } from '../../../domain/errors.js';
import { crashPoint } from '../../../testing/crash-point.js';
import { storageError } from '../store-error.js';
import type { SqliteDb } from './sqlite-db.js';
import { LAZY_WRITES } from './sqlite-lazy-writes.js';
import type { WriteArgs, WriteOpName, WriteOps, WriteResult } from './sqlite-write-ops.js';

/**
 * Group commit. With synchronous=FULL every COMMIT waits for an fsync, so one
 * transaction per write caps throughput at the disk's fsync rate. Instead, writes
 * are queued and run together:
 *
 * - the first write queued in an event-loop turn schedules a flush with setImmediate,
 *   so every write requested during that turn joins the same batch;
 * - a batch is one BEGIN IMMEDIATE ... COMMIT of at most `maxBatch` writes; what is
 *   left starts the next batch on the next turn, after I/O, so the replies of the
 *   committed batch go out first;
 * - a batch first runs optimistically, without savepoints (a SAVEPOINT/RELEASE pair
 *   costs about as much as the write itself); if any write throws, the whole
 *   transaction is rolled back and the batch is replayed with each write in its own
 *   SAVEPOINT, so that the failing write is rolled back alone and the others commit.
 *   Writes are functions of the database state only, so the replay is exact. A CAS
 *   miss writes nothing and is a result, not a failure;
 * - promises settle only after COMMIT returned, i.e. once the batch is durable; if
 *   BEGIN or COMMIT fails, every write of the batch fails and nothing of it is kept.
 *
 * better-sqlite3 is synchronous, so a batch runs from BEGIN to COMMIT without
 * yielding to the event loop: reads, which go straight to the connection, only ever
 * see committed data. BEGIN IMMEDIATE takes the write lock up front, so another
 * process writing the same file makes us wait (busy_timeout), never deadlock halfway.
 */
export interface Writer {
  /** Runs the named write inside the next batch's transaction; resolves after it committed. */
  submit<K extends WriteOpName>(op: K, args: WriteArgs<K>): Promise<WriteResult<K>>;
  /** Commits everything queued, then refuses new writes. */
  drain(): Promise<void>;
  /** Why no write can succeed any more (the writer thread died), if so. */
  broken(): string | undefined;
}

interface Job {
  work: () => unknown;
  /** A write of LAZY_WRITES (sqlite-lazy-writes.ts). */
  lazy: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The group-commit writer on this thread's connection (used by the writer thread, and
 * inline when no worker can run). `rolledBack` is told whenever writes were undone, so
 * that state cached beside the database (the audit tree's edge) is dropped.
 */
export function createInlineWriter(db: SqliteDb, ops: WriteOps, maxBatch: number, rolledBack: () => void = () => {}): Writer {
  const size = Math.max(1, Math.floor(maxBatch));
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');
  const savepoint = db.prepare('SAVEPOINT write');
  const release = db.prepare('RELEASE write');
  const rollbackTo = db.prepare('ROLLBACK TO write');
  // Set between transactions (sqlite-lazy-writes.ts): FULL unless a batch holds only lazy
  // writes. Executed each time, never prepared: SQLite applies this pragma when it compiles it.
  let normal = false;

  let queue: Job[] = [];
  let scheduled = false;
  let closed = false;

  function schedule(): void {
    if (scheduled || queue.length === 0) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      flush();
      schedule();
    });
  }

  /** Runs one write in its savepoint; false if the transaction itself is gone. */
  function runOne(job: Job, outcomes: Outcome[]): boolean {
    savepoint.run();
    try {
      outcomes.push({ ok: true, value: job.work() });
      release.run();
      return true;
    } catch (error) {
      outcomes.push({ ok: false, error });
      rolledBack();
      // Some failures (disk full, I/O error) end the whole transaction in SQLite.
      if (!db.inTransaction) return false;
      rollbackTo.run();
      release.run();
      return true;
    }
  }

  /** Runs the batch without savepoints; undefined (and nothing kept) if a write threw. */
  function runOptimistic(batch: Job[]): Outcome[] | undefined {
    const outcomes: Outcome[] = [];
    begin.run();
    try {
      for (const job of batch) outcomes.push({ ok: true, value: job.work() });
      return outcomes;
    } catch {
      rolledBack();
      if (db.inTransaction) rollback.run();
      return undefined;
    }
  }

  function flush(): void {
    if (queue.length === 0) return;
    const batch = queue.length <= size ? queue : queue.slice(0, size);
    queue = queue.length <= size ? [] : queue.slice(size);
    let outcomes: Outcome[] = [];
    try {
      const lazy = batch.every((job) => job.lazy);
      if (lazy !== normal) {
        db.exec(lazy ? 'PRAGMA synchronous = NORMAL' : 'PRAGMA synchronous = FULL');
        normal = lazy;
      }
      const fast = runOptimistic(batch);
      if (fast) outcomes = fast;
      else {
        begin.run();
        for (const job of batch) {
          if (!runOne(job, outcomes)) throw (outcomes.at(-1) as { error: unknown }).error;
        }
      }
      crashPoint('store.before-commit');
      commit.run();
    } catch (e) {
      rolledBack();
      try {
        if (db.inTransaction) rollback.run();
      } catch {
        // The connection is unusable; the error below is what callers see.
      }
      const failed = storageError(e);
      for (const job of batch) job.reject(failed);
      return;
    }
    crashPoint('store.after-commit');
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(storageError(o.error));
    });
  }

  return {
    submit<K extends WriteOpName>(op: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
      if (closed) return Promise.reject(new AppError('STORAGE_ERROR', 'The store is closed'));
      const fn = ops[op] as (a: WriteArgs<K>) => WriteResult<K>;
      return new Promise<WriteResult<K>>((resolve, reject) => {
        queue.push({ work: () => fn(args), lazy: LAZY_WRITES.has(op), resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    broken: () => undefined,
    drain() {
      closed = true;
      while (queue.length > 0) flush();
      return Promise.resolve();
    },
  };
}

/** The writer of a read-only store: every write is refused. */
export function readOnlyWriter(): Writer {
  return {
    submit: () => Promise.reject(new AppError('STORAGE_ERROR', 'The store is open read-only')),
    drain: () => Promise.resolve(),
    broken: () => undefined,
  };
}
