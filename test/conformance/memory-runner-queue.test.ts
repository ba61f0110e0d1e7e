import { createMemoryRunnerQueue } from '../../src/adapters/runner/memory-runner-queue.js';
import { runnerQueueConformance } from './runner-queue-conformance.js';

runnerQueueConformance('memory (one process)', async () => {
  const q = createMemoryRunnerQueue();
  return { first: q, second: q, cleanup: () => q.close() };
});
