import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ActionRecord } from '../../src/domain/action-record.js';
import { EXECUTION_FAILURE_CODES } from '../../src/domain/execution-failure.js';
import type { Executor } from '../../src/ports/executor.js';

/** What an adapter provides to run the Executor conformance suite. */
export interface ExecutorHarness {
  executor: Executor;
  /** A running action with a correct fingerprint that succeeds against the harness's target. */
  runnable(): ActionRecord;
  /** How many operations have reached the target so far. */
  reached(): number;
  /** Secret values the target may echo; none may appear in any result. */
  secrets: readonly string[];
  close(): Promise<void>;
}

/**
 * The promises every executor keeps, whatever its kind: it never throws, it sends
 * nothing unless the action is running and matches its fingerprint, and its results
 * hold no secret.
 */
export function executorConformance(name: string, setup: () => Promise<ExecutorHarness>): void {
  describe(`Executor conformance: ${name}`, () => {
    let h: ExecutorHarness;
    beforeEach(async () => {
      h = await setup();
    });
    afterEach(async () => {
      await h.close();
    });

    const noSecret = (r: unknown) => {
      const text = JSON.stringify(r);
      for (const s of h.secrets) expect(text).not.toContain(s);
    };

    it('runs a running action whose fingerprint matches, once', async () => {
      const r = await h.executor.execute(h.runnable());
      expect(r.ok).toBe(true);
      expect(h.reached()).toBe(1);
      expect(r).not.toHaveProperty('startedAt');
      expect(r).not.toHaveProperty('finishedAt');
      noSecret(r);
    });

    it('sends nothing for an action changed after approval', async () => {
      const a = h.runnable();
      const r = await h.executor.execute({ ...a, input: { ...a.input, tampered: true } });
      expect(r).toMatchObject({ ok: false, error: { code: 'FINGERPRINT_MISMATCH' } });
      expect(h.reached()).toBe(0);
    });

    it('sends nothing for an action that is not running', async () => {
      for (const status of ['pending', 'approved', 'denied', 'succeeded', 'failed'] as const) {
        const r = await h.executor.execute({ ...h.runnable(), status });
        expect(r).toMatchObject({ ok: false, error: { code: 'NOT_RUNNING' } });
      }
      expect(h.reached()).toBe(0);
    });

    it('sends nothing for an unknown target', async () => {
      const r = await h.executor.execute({ ...h.runnable(), target: 'no-such-target' });
      expect(r.ok).toBe(false);
      expect(['TARGET_NOT_FOUND', 'FINGERPRINT_MISMATCH']).toContain(r.error?.code);
      expect(h.reached()).toBe(0);
    });

    it('sends nothing once cancelled', async () => {
      const ac = new AbortController();
      ac.abort();
      const r = await h.executor.execute(h.runnable(), ac.signal);
      expect(r).toMatchObject({ ok: false, error: { code: 'ABORTED' } });
      expect(h.reached()).toBe(0);
    });

    it('never throws on a malformed record, and says why with a known code', async () => {
      const a = h.runnable();
      const bad = [{ ...a, input: null }, { ...a, requester: {} }, { ...a, fingerprint: undefined }, {}] as unknown as ActionRecord[];
      for (const x of bad) {
        const r = await h.executor.execute(x);
        expect(r.ok).toBe(false);
        expect(EXECUTION_FAILURE_CODES).toContain(r.error?.code);
        expect(typeof r.error?.message).toBe('string');
      }
      expect(h.reached()).toBe(0);
    });
  });
}
