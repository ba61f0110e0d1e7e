import type { Logger } from 'pino';

/** How long a shutdown step may take before the log says which one the gateway waits for. */
const SLOW_STEP_MS = 5000;

/**
 * Runs shutdown steps in order; a step still running after 5 s is named in the log (and
 * again when it ends), so an operator whose gateway does not stop after SIGTERM can see
 * what it waits for: draining executions, a client that does not hang up, the store.
 */
export async function runShutdownSteps(logger: Pick<Logger, 'warn'>, steps: ReadonlyArray<readonly [string, () => unknown]>): Promise<void> {
  for (const [name, step] of steps) {
    const started = Date.now();
    const slow = setInterval(() => logger.warn({ step: name, waitedMs: Date.now() - started }, 'shutdown: still waiting'), SLOW_STEP_MS);
    slow.unref();
    try {
      await step();
    } finally {
      clearInterval(slow);
      if (Date.now() - started >= SLOW_STEP_MS) logger.warn({ step: name, tookMs: Date.now() - started }, 'shutdown: step done');
    }
  }
}
