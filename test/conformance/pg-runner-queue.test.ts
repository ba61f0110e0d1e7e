import { createPgRunnerQueue } from '../../src/adapters/runner/pg-runner-queue.js';
import type { RunnerQueue } from '../../src/ports/runner-queue.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';
import { runnerQueueConformance } from './runner-queue-conformance.js';

const db = usePgDatabase();

/** Until `listener` hears what `sender` queues: its LISTEN connection is up. */
async function listening(listener: RunnerQueue, sender: RunnerQueue): Promise<void> {
  let heard = false;
  const stop = listener.watch((e) => (heard ||= e.type === 'queued'));
  for (let i = 0; !heard && i < 200; i++) {
    const jobId = `probe-${i}`;
    await sender.enqueue({ job: { jobId, type: 'preview', target: '__probe', input: {} }, target: '__probe', runners: [], claimBy: 0, createdAt: 0 });
    await sender.forget(jobId);
    await new Promise((r) => setTimeout(r, 50));
  }
  stop();
}

// Two replicas: two queues (each its own pool and LISTEN connection) on one schema, migrated by the store.
runnerQueueConformance('PostgreSQL (two replicas on one schema)', async () => {
  const h = await pgHarness(db());
  const conn = { url: db().url, schema: h.schema, statementTimeoutMs: 10_000, connectTimeoutMs: 10_000 };
  const first = createPgRunnerQueue(conn);
  const second = createPgRunnerQueue(conn);
  await listening(first, second);
  return {
    first,
    second,
    async cleanup() {
      await Promise.all([first.close(), second.close()]);
      await h.cleanup();
    },
  };
});
