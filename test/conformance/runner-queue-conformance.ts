// The runner queue's promises (src/ports/runner-queue.ts), run against every adapter:
// in memory (one gateway process) and PostgreSQL (several replicas on one database).
// `second` is another replica's view of the same queue (memory: the same object).
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueuedJob, QueueEvent, RunnerQueue } from '../../src/ports/runner-queue.js';
import type { JobResult } from '../../src/runner/runner-protocol.js';

export interface RunnerQueueHarness {
  first: RunnerQueue;
  second: RunnerQueue;
  cleanup(): Promise<void>;
}

const T0 = 1_800_000_000_000;

function job(target = 'db', runners = ['dc1'], claimBy = T0 + 60_000): QueuedJob {
  const jobId = randomUUID();
  return {
    job: { jobId, type: 'execute', actionId: `act_${jobId.slice(0, 8)}`, job: { kind: 'command', target, input: { argv: ['tool', 'x'] }, requesterId: 'agent', fingerprint: 'sha256:00' } },
    target,
    runners,
    claimBy,
    createdAt: T0,
  };
}

const result = (jobId: string, actionId: string): JobResult => ({ jobId, type: 'execute', actionId, result: { ok: true, exitCode: 0 } });
const session = (instance: string, runner = 'dc1') => ({ instance, runner, host: 'h', targets: ['db'] });

export function runnerQueueConformance(name: string, make: () => Promise<RunnerQueueHarness>): void {
  describe(`runner queue conformance: ${name}`, () => {
    let h: RunnerQueueHarness;
    beforeEach(async () => {
      h = await make();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('a job is claimed by one session only, even when two replicas claim it at once', async () => {
      const jobs = Array.from({ length: 20 }, () => job());
      for (const j of jobs) await h.first.enqueue(j);
      await h.first.touch(session('i-a'), T0);
      await h.second.touch(session('i-b'), T0);
      const [a, b] = await Promise.all([h.first.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100), h.second.claim({ runner: 'dc1', instance: 'i-b' }, ['db'], T0 + 1, 100)]);
      const ids = [...a, ...b].map((j) => j.jobId).sort();
      expect(ids).toEqual(jobs.map((j) => j.job.jobId).sort());
      expect(new Set(ids).size).toBe(20);
    });

    it('a runner takes only the jobs of targets it serves and whose runner list names it', async () => {
      const mine = job('db', ['dc1']);
      await h.first.enqueue(mine);
      await h.first.enqueue(job('other', ['dc1']));
      await h.first.enqueue(job('db', ['dc2']));
      await h.first.touch(session('i-a'), T0);
      const got = await h.second.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      expect(got.map((j) => j.jobId)).toEqual([mine.job.jobId]);
    });

    it('a job past its claim time is never taken, and a withdrawn job is never taken', async () => {
      const late = job('db', ['dc1'], T0 + 10);
      const withdrawn = job();
      await h.first.enqueue(late);
      await h.first.enqueue(withdrawn);
      expect(await h.first.withdraw(withdrawn.job.jobId)).toBe(true);
      await h.first.touch(session('i-a'), T0);
      expect(await h.second.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 10, 100)).toEqual([]);
      expect((await h.first.outcome(withdrawn.job.jobId)).state).toBe('withdrawn');
    });

    it('a claimed job cannot be withdrawn; its result, settled on another replica, is the outcome the queuing replica reads', async () => {
      const j = job();
      await h.first.enqueue(j);
      await h.second.touch(session('i-a'), T0);
      await h.second.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      expect(await h.first.withdraw(j.job.jobId)).toBe(false);
      expect((await h.first.outcome(j.job.jobId)).state).toBe('claimed');
      const r = result(j.job.jobId, 'act');
      expect(await h.second.settle('i-a', [r])).toEqual([]);
      expect(await h.first.outcome(j.job.jobId)).toEqual({ state: 'done', result: r });
    });

    it('only the session that claimed a job settles it; another one\'s result is late and changes nothing', async () => {
      const j = job();
      await h.first.enqueue(j);
      await h.first.touch(session('i-a'), T0);
      await h.first.touch(session('i-b'), T0);
      await h.first.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      expect(await h.second.settle('i-b', [result(j.job.jobId, 'act')])).toEqual([j.job.jobId]);
      expect((await h.first.outcome(j.job.jobId)).state).toBe('claimed');
    });

    it('a session silent past its lease is answered once, its jobs lost; then it claims nothing and its late result changes nothing', async () => {
      const j = job();
      await h.first.enqueue(j);
      await h.first.touch(session('i-a'), T0);
      await h.first.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      const [x, y] = await Promise.all([h.first.expire(T0 + 1, 0), h.second.expire(T0 + 1, 0)]);
      expect([...x, ...y]).toEqual([{ instance: 'i-a', runner: 'dc1', host: 'h', interrupted: [(j.job as { actionId: string }).actionId] }]);
      expect(await h.first.outcome(j.job.jobId)).toEqual({ state: 'lost', runner: 'dc1', host: 'h' });
      await h.first.enqueue(job());
      expect(await h.first.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 2, 100)).toEqual([]);
      expect(await h.first.settle('i-a', [result(j.job.jobId, 'act')])).toEqual([j.job.jobId]);
      expect((await h.first.outcome(j.job.jobId)).state).toBe('lost');
    });

    it('an instance belongs to the runner that opened it: another runner id cannot touch it', async () => {
      expect(await h.first.touch(session('i-a', 'dc1'), T0)).toEqual({ created: true, runner: 'dc1' });
      expect(await h.second.touch(session('i-a', 'dc1'), T0 + 5)).toEqual({ created: false, runner: 'dc1' });
      expect((await h.second.touch(session('i-a', 'dc2'), T0 + 6)).runner).toBe('dc1');
      const s = await h.first.sessions();
      expect(s.map((x) => [x.instance, x.runner, x.lastSeen])).toEqual([['i-a', 'dc1', T0 + 5]]);
      expect((await h.first.lastSeen()).get('dc1')).toBe(T0 + 5);
    });

    it('a job claimed long ago that the runner neither runs nor holds is lost (the response never reached it)', async () => {
      const j = job();
      const kept = job();
      await h.first.enqueue(j);
      await h.first.enqueue(kept);
      await h.first.touch(session('i-a'), T0);
      await h.first.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      await h.second.dropUnheld({ runner: 'dc1', instance: 'i-a', host: 'h' }, [kept.job.jobId], T0 + 2);
      expect((await h.first.outcome(j.job.jobId)).state).toBe('lost');
      expect((await h.first.outcome(kept.job.jobId)).state).toBe('claimed');
    });

    it('replicas hear of queued jobs and settled outcomes from each other', async () => {
      const heard: QueueEvent[] = [];
      const stop = h.first.watch((e) => heard.push(e));
      const j = job();
      await h.second.enqueue(j);
      await h.second.touch(session('i-a'), T0);
      await h.second.claim({ runner: 'dc1', instance: 'i-a' }, ['db'], T0 + 1, 100);
      await h.second.settle('i-a', [result(j.job.jobId, 'act')]);
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !heard.some((e) => e.type === 'settled' && e.jobIds.includes(j.job.jobId))) await new Promise((r) => setTimeout(r, 20));
      stop();
      expect(heard.some((e) => e.type === 'queued')).toBe(true);
      expect(heard.some((e) => e.type === 'settled' && e.jobIds.includes(j.job.jobId))).toBe(true);
    });
  });
}
