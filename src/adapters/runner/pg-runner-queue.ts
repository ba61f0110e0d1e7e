import type pg from 'pg';
import type { Job, JobResult } from '../../runner/runner-protocol.js';
import type { ExpiredSession, JobOutcome, QueueEvent, RunnerQueue } from '../../ports/runner-queue.js';
import { storageError } from '../store/store-error.js';
import type { PgConnectOptions } from '../store/postgres/pg-connect.js';
import { createPgPool } from '../store/postgres/pg-connect.js';
import { createPgListener } from '../store/postgres/pg-listen.js';

/** The NOTIFY channel of a schema's runner queue (identifiers are at most 63 bytes). */
export const runnerChannel = (schema: string) => `countersign_runners_${schema}`.slice(0, 63);

/** Settled job ids per notification: well under NOTIFY's 8,000-byte payload. */
const IDS_PER_NOTE = 100;

interface JobRow {
  state: 'queued' | 'claimed' | 'done' | 'lost' | 'withdrawn';
  result: string | null;
  lost_runner: string | null;
  lost_host: string | null;
}

/**
 * The runner queue of several replicas on one PostgreSQL database (the store's schema,
 * migration 5). Claims take queued rows with FOR UPDATE SKIP LOCKED, so that two
 * replicas answering two polls never hand one job to two runners; a claim holds its
 * session row FOR SHARE, so a session expiring meanwhile marks lost what it took.
 * Every change NOTIFYs the runner channel in its transaction (delivered on commit):
 * replicas wake their polls and waiters at once, and poll slowly in case one is lost.
 */
export function createPgRunnerQueue(conn: Omit<PgConnectOptions, 'max'>, onError: (e: unknown) => void = () => undefined): RunnerQueue {
  const pool = createPgPool({ ...conn, max: 4, applicationName: 'countersign-runners' });
  const channel = runnerChannel(conn.schema);
  const listener = createPgListener({ ...conn, max: 1 }, channel, onError);
  const listeners = new Set<(e: QueueEvent) => void>();
  const emit = (e: QueueEvent) => {
    for (const l of listeners) l(e);
  };
  const unsubscribe = listener.subscribe((words) => {
    if (words[0] === 'q') emit({ type: 'queued' });
    else if (words[0] === 's') emit({ type: 'settled', jobIds: words.slice(1) });
  });

  async function tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await pool.connect();
    } catch (e) {
      throw storageError(e);
    }
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw storageError(e);
    } finally {
      c.release();
    }
  }
  const q = async <R extends pg.QueryResultRow>(text: string, params: unknown[] = []) => {
    try {
      return await pool.query<R>(text, params);
    } catch (e) {
      throw storageError(e);
    }
  };
  const noteSettled = async (c: pg.PoolClient, ids: readonly string[]) => {
    for (let i = 0; i < ids.length; i += IDS_PER_NOTE) await c.query('SELECT pg_notify($1, $2)', [channel, ['s', ...ids.slice(i, i + IDS_PER_NOTE)].join(' ')]);
  };

  return {
    async enqueue(j) {
      await tx(async (c) => {
        await c.query('INSERT INTO runner_jobs (job_id, target, runners, job, state, claim_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
          j.job.jobId,
          j.target,
          [...j.runners],
          JSON.stringify(j.job),
          'queued',
          j.claimBy,
          j.createdAt,
        ]);
        await c.query('SELECT pg_notify($1, $2)', [channel, 'q']);
      });
      emit({ type: 'queued' });
    },
    claim(s, targets, now, limit) {
      if (targets.length === 0) return Promise.resolve([]);
      return tx(async (c) => {
        const alive = await c.query('SELECT 1 FROM runner_sessions WHERE instance = $1 FOR SHARE', [s.instance]);
        if (alive.rowCount === 0) return [];
        const r = await c.query<{ job: string }>(
          `UPDATE runner_jobs SET state = 'claimed', claimed_instance = $1, claimed_at = $2
           WHERE job_id IN (
             SELECT job_id FROM runner_jobs
             WHERE state = 'queued' AND claim_by > $2 AND target = ANY($3) AND $4 = ANY(runners)
             ORDER BY created_at LIMIT $5 FOR UPDATE SKIP LOCKED)
           RETURNING job, created_at`,
          [s.instance, now, [...targets], s.runner, limit],
        );
        return r.rows.map((row) => JSON.parse(row.job) as Job);
      });
    },
    async settle(instance, results) {
      if (results.length === 0) return [];
      const settled = await tx(async (c) => {
        const done: string[] = [];
        for (const r of results) {
          const u = await c.query(`UPDATE runner_jobs SET state = 'done', result = $3, ended_at = $4 WHERE job_id = $1 AND claimed_instance = $2 AND state = 'claimed'`, [r.jobId, instance, JSON.stringify(r), Date.now()]);
          if (u.rowCount === 1) done.push(r.jobId);
        }
        await noteSettled(c, done);
        return done;
      });
      if (settled.length) emit({ type: 'settled', jobIds: settled });
      return results.map((r) => r.jobId).filter((id) => !settled.includes(id));
    },
    async dropUnheld(s, held, claimedBefore) {
      const dropped = await tx(async (c) => {
        const r = await c.query<{ job_id: string }>(
          `UPDATE runner_jobs SET state = 'lost', lost_runner = $2, lost_host = $3, ended_at = $4
           WHERE claimed_instance = $1 AND state = 'claimed' AND claimed_at < $5 AND NOT (job_id = ANY($6)) RETURNING job_id`,
          [s.instance, s.runner, s.host, Date.now(), claimedBefore, [...held]],
        );
        const ids = r.rows.map((row) => row.job_id);
        await noteSettled(c, ids);
        return ids;
      });
      if (dropped.length) emit({ type: 'settled', jobIds: dropped });
    },
    async outcome(jobId): Promise<JobOutcome> {
      const r = await q<JobRow>('SELECT state, result, lost_runner, lost_host FROM runner_jobs WHERE job_id = $1', [jobId]);
      const row = r.rows[0];
      if (!row) return { state: 'unknown' };
      if (row.state === 'done') return { state: 'done', result: JSON.parse(row.result!) as JobResult };
      if (row.state === 'lost') return { state: 'lost', runner: row.lost_runner ?? '?', host: row.lost_host ?? '?' };
      return row.state === 'queued' ? { state: 'queued' } : row.state === 'claimed' ? { state: 'claimed' } : { state: 'withdrawn' };
    },
    async withdraw(jobId) {
      const r = await q(`UPDATE runner_jobs SET state = 'withdrawn', ended_at = $2 WHERE job_id = $1 AND state = 'queued'`, [jobId, Date.now()]);
      return r.rowCount === 1;
    },
    async forget(jobId) {
      await q('DELETE FROM runner_jobs WHERE job_id = $1', [jobId]);
    },
    async touch(s, now) {
      return tx(async (c) => {
        const r = await c.query<{ runner: string; inserted: boolean }>(
          `INSERT INTO runner_sessions (instance, runner, host, targets, connected_at, last_seen) VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (instance) DO UPDATE SET last_seen = EXCLUDED.last_seen, targets = EXCLUDED.targets, host = EXCLUDED.host
             WHERE runner_sessions.runner = EXCLUDED.runner
           RETURNING runner, (xmax = 0) AS inserted`,
          [s.instance, s.runner, s.host, JSON.stringify([...s.targets]), now],
        );
        const row = r.rows[0];
        if (!row) {
          // The instance is another runner's: nothing was changed.
          const other = await c.query<{ runner: string }>('SELECT runner FROM runner_sessions WHERE instance = $1', [s.instance]);
          return { created: false, runner: other.rows[0]?.runner ?? '' };
        }
        await c.query('INSERT INTO runner_seen (runner, last_seen) VALUES ($1, $2) ON CONFLICT (runner) DO UPDATE SET last_seen = GREATEST(runner_seen.last_seen, EXCLUDED.last_seen)', [s.runner, now]);
        return { created: row.inserted, runner: row.runner };
      });
    },
    async expire(cutoff, forgetBefore) {
      const { gone, lost } = await tx(async (c) => {
        const sessions = await c.query<{ instance: string; runner: string; host: string }>('DELETE FROM runner_sessions WHERE last_seen < $1 RETURNING instance, runner, host', [cutoff]);
        const out: ExpiredSession[] = [];
        const ids: string[] = [];
        for (const s of sessions.rows) {
          const r = await c.query<{ job_id: string; job: string }>(
            `UPDATE runner_jobs SET state = 'lost', lost_runner = $2, lost_host = $3, ended_at = $4 WHERE claimed_instance = $1 AND state = 'claimed' RETURNING job_id, job`,
            [s.instance, s.runner, s.host, Date.now()],
          );
          ids.push(...r.rows.map((row) => row.job_id));
          const interrupted = r.rows.map((row) => JSON.parse(row.job) as Job).flatMap((j) => (j.type === 'execute' ? [j.actionId] : []));
          out.push({ ...s, interrupted });
        }
        await c.query('DELETE FROM runner_jobs WHERE ended_at < $1', [forgetBefore]);
        await noteSettled(c, ids);
        return { gone: out, lost: ids };
      });
      if (lost.length) emit({ type: 'settled', jobIds: lost });
      return gone;
    },
    async sessions() {
      const r = await q<{ instance: string; runner: string; host: string; targets: string; connected_at: number; last_seen: number; running: number }>(
        `SELECT s.instance, s.runner, s.host, s.targets, s.connected_at, s.last_seen,
           (SELECT count(*)::int FROM runner_jobs j WHERE j.claimed_instance = s.instance AND j.state = 'claimed') AS running
         FROM runner_sessions s ORDER BY s.runner, s.connected_at`,
      );
      return r.rows.map((row) => ({ instance: row.instance, runner: row.runner, host: row.host, targets: JSON.parse(row.targets) as string[], connectedAt: row.connected_at, lastSeen: row.last_seen, running: row.running }));
    },
    async lastSeen() {
      const r = await q<{ runner: string; last_seen: number }>('SELECT runner, last_seen FROM runner_seen');
      return new Map(r.rows.map((row) => [row.runner, row.last_seen]));
    },
    watch(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async close() {
      unsubscribe();
      listeners.clear();
      await listener.close();
      await pool.end().catch(() => undefined);
    },
  };
}
