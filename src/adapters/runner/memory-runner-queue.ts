import type { Job, JobResult } from '../../runner/runner-protocol.js';
import type { ExpiredSession, JobOutcome, QueuedJob, QueueEvent, RunnerQueue, RunnerSessionRow } from '../../ports/runner-queue.js';

interface Row {
  q: QueuedJob;
  state: 'queued' | 'claimed' | 'done' | 'lost' | 'withdrawn';
  instance?: string;
  claimedAt?: number;
  result?: JobResult;
  lostTo?: { runner: string; host: string };
  endedAt?: number;
}

/** The runner queue of a single gateway process (the SQLite store): everything in memory, every step atomic. */
export function createMemoryRunnerQueue(): RunnerQueue {
  const jobs = new Map<string, Row>();
  const sessions = new Map<string, Omit<RunnerSessionRow, 'running'>>();
  const seen = new Map<string, number>();
  const listeners = new Set<(e: QueueEvent) => void>();
  const emit = (e: QueueEvent) => {
    for (const l of listeners) l(e);
  };

  return {
    async enqueue(q) {
      jobs.set(q.job.jobId, { q, state: 'queued' });
      emit({ type: 'queued' });
    },
    async claim(s, targets, now, limit) {
      if (!sessions.has(s.instance)) return [];
      const out: Job[] = [];
      for (const row of jobs.values()) {
        if (out.length >= limit) break;
        if (row.state !== 'queued' || row.q.claimBy <= now || !targets.includes(row.q.target) || !row.q.runners.includes(s.runner)) continue;
        row.state = 'claimed';
        row.instance = s.instance;
        row.claimedAt = now;
        out.push(row.q.job);
      }
      return out;
    },
    async settle(instance, results) {
      const late: string[] = [];
      const settled: string[] = [];
      for (const r of results) {
        const row = jobs.get(r.jobId);
        if (row?.state === 'claimed' && row.instance === instance) {
          row.state = 'done';
          row.result = r;
          row.endedAt = Date.now();
          settled.push(r.jobId);
        } else late.push(r.jobId);
      }
      if (settled.length) emit({ type: 'settled', jobIds: settled });
      return late;
    },
    async dropUnheld(s, held, claimedBefore) {
      const dropped: string[] = [];
      for (const row of jobs.values()) {
        if (row.state !== 'claimed' || row.instance !== s.instance || row.claimedAt! >= claimedBefore || held.includes(row.q.job.jobId)) continue;
        row.state = 'lost';
        row.lostTo = { runner: s.runner, host: s.host };
        row.endedAt = Date.now();
        dropped.push(row.q.job.jobId);
      }
      if (dropped.length) emit({ type: 'settled', jobIds: dropped });
    },
    async outcome(jobId): Promise<JobOutcome> {
      const row = jobs.get(jobId);
      if (!row) return { state: 'unknown' };
      if (row.state === 'done') return { state: 'done', result: row.result! };
      if (row.state === 'lost') return { state: 'lost', ...row.lostTo! };
      return row.state === 'queued' ? { state: 'queued' } : row.state === 'claimed' ? { state: 'claimed' } : { state: 'withdrawn' };
    },
    async withdraw(jobId) {
      const row = jobs.get(jobId);
      if (row?.state !== 'queued') return false;
      row.state = 'withdrawn';
      row.endedAt = Date.now();
      return true;
    },
    async forget(jobId) {
      jobs.delete(jobId);
    },
    async touch(s, now) {
      const had = sessions.get(s.instance);
      if (had && had.runner !== s.runner) return { created: false, runner: had.runner };
      sessions.set(s.instance, { instance: s.instance, runner: s.runner, host: s.host, targets: [...s.targets], connectedAt: had?.connectedAt ?? now, lastSeen: now });
      seen.set(s.runner, now);
      return { created: !had, runner: s.runner };
    },
    async expire(cutoff, forgetBefore) {
      const gone: ExpiredSession[] = [];
      const settled: string[] = [];
      for (const s of [...sessions.values()]) {
        if (s.lastSeen >= cutoff) continue;
        sessions.delete(s.instance);
        const interrupted: string[] = [];
        for (const row of jobs.values()) {
          if (row.state !== 'claimed' || row.instance !== s.instance) continue;
          row.state = 'lost';
          row.lostTo = { runner: s.runner, host: s.host };
          row.endedAt = Date.now();
          settled.push(row.q.job.jobId);
          if (row.q.job.type === 'execute') interrupted.push(row.q.job.actionId);
        }
        gone.push({ instance: s.instance, runner: s.runner, host: s.host, interrupted });
      }
      for (const [id, row] of jobs) if (row.endedAt !== undefined && row.endedAt < forgetBefore) jobs.delete(id);
      if (settled.length) emit({ type: 'settled', jobIds: settled });
      return gone;
    },
    async sessions() {
      return [...sessions.values()].map((s) => ({ ...s, running: [...jobs.values()].filter((r) => r.state === 'claimed' && r.instance === s.instance).length }));
    },
    async lastSeen() {
      return new Map(seen);
    },
    watch(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    async close() {
      listeners.clear();
    },
  };
}
