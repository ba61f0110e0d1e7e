// Timed work on several replicas of one PostgreSQL store, each replica a store instance
// with its own pool (its own connections, as separate processes have): every replica's
// timer finds the same work, and each piece happens once. A dead replica's claimed work
// is taken over once its lease runs out; an execution it had started is interrupted,
// never run again.
import { describe, expect, it } from 'vitest';
import type { PostgresStore } from '../../src/adapters/store/postgres/pg-store.js';
import type { ActionRecord } from '../../src/domain/action-record.js';
import { applyReview, startExecution } from '../../src/domain/lifecycle.js';
import type { Executor } from '../../src/ports/executor.js';
import type { NewDelivery } from '../../src/ports/channel-store.js';
import { createExecutionService } from '../../src/services/execution-service.js';
import { createSchedulerService } from '../../src/services/scheduler-service.js';
import { HOUR, T0, allEntries, at, human, insert, newAction, range, review } from './store-fixtures.js';
import { pgHarness, usePgDatabase } from './pg-harness.js';

const db = usePgDatabase();
const quiet = { notify: () => undefined };
const sre = human('alice@example.com', 'sre');

/** Three replicas of one fresh schema. */
async function replicas(): Promise<{ stores: PostgresStore[]; cleanup(): Promise<void> }> {
  const h = await pgHarness(db());
  return { stores: [h.store, await h.reopen(), await h.reopen()], cleanup: () => h.cleanup() };
}

function countingExecutor(): Executor & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async execute(a) {
      calls.push(a.id);
      await new Promise((r) => setTimeout(r, 20));
      return { ok: true, output: { status: 200 } };
    },
  };
}

function executions(store: PostgresStore, executor: Executor, now: () => Date, host: string) {
  return createExecutionService({
    store,
    clock: { now },
    notifier: quiet,
    executors: { http: executor },
    process: { host, pid: 4242, instance: host, isAlive: () => true },
    maxDurationMs: () => 60_000,
    onError: (e) => {
      throw e;
    },
  });
}

async function approved(store: PostgresStore): Promise<ActionRecord> {
  const a = await insert(store, newAction({ decision: review({ approvers: ['group:sre'] }) }));
  const t = applyReview(a, sre, 'approve', { fingerprint: a.fingerprint, via: 'test', now: at(10) });
  if (!(await store.updateAction(t.next, a.version, t.audit))) throw new Error('not approved');
  return t.next;
}

const typesOf = async (store: PostgresStore, id: string) => (await allEntries(store)).filter((e) => e.actionId === id).map((e) => e.type);

describe('timed work on three replicas of one PostgreSQL store', () => {
  it('schedulers ticking at once expire each due action once and escalate each once', async () => {
    const { stores, cleanup } = await replicas();
    try {
      const expiring = await Promise.all(range(12).map(() => insert(stores[0]!, newAction({ decision: review({ timeoutMs: 1000 }) }))));
      const escalating = await Promise.all(
        range(6).map(() => insert(stores[0]!, newAction({ decision: review({ timeoutMs: HOUR, escalate: { afterMs: 1000, to: ['group:oncall'] } }) }))),
      );
      const later = () => at(5000);
      const executor = countingExecutor();
      const results = await Promise.all(
        stores.map((s, i) => createSchedulerService({ store: s, clock: { now: later }, notifier: quiet, executions: executions(s, executor, later, `host-${i}`) }).tick()),
      );
      expect(results.reduce((n, r) => n + r.expired, 0)).toBe(expiring.length);
      expect(results.reduce((n, r) => n + r.escalated, 0)).toBe(escalating.length);
      for (const a of expiring) expect((await typesOf(stores[1]!, a.id)).filter((t) => t === 'action.expired')).toHaveLength(1);
      for (const a of escalating) expect((await typesOf(stores[2]!, a.id)).filter((t) => t === 'action.escalated')).toHaveLength(1);
      // Ticking again finds nothing left to do.
      const again = await createSchedulerService({ store: stores[2]!, clock: { now: later }, notifier: quiet, executions: executions(stores[2]!, executor, later, 'host-2') }).tick();
      expect(again).toMatchObject({ expired: 0, escalated: 0 });
    } finally {
      await cleanup();
    }
  });

  it('approved actions waiting to run are run once, whichever replicas find them', async () => {
    const { stores, cleanup } = await replicas();
    try {
      const waiting = await Promise.all(range(8).map(() => approved(stores[0]!)));
      const executor = countingExecutor();
      const services = stores.map((s, i) => executions(s, executor, () => at(20), `host-${i}`));
      await Promise.all(services.map((e) => e.recover()));
      await Promise.all(services.map((e) => e.drain()));
      expect(executor.calls.sort()).toEqual(waiting.map((a) => a.id).sort());
      for (const a of waiting) {
        expect((await stores[1]!.getAction(a.id))!.status).toBe('succeeded');
        expect((await typesOf(stores[1]!, a.id)).filter((t) => t === 'execution.started')).toHaveLength(1);
      }
    } finally {
      await cleanup();
    }
  });

  it("a dead replica's running execution is left alone until its lease ends, then interrupted by another replica and never re-run", async () => {
    const { stores, cleanup } = await replicas();
    try {
      const a = await approved(stores[0]!);
      // Replica 0 (on another host) started it and died: its runner lease is 60 s + one minute.
      const runner = { host: 'dead-host', pid: 7, instance: 'dead', leaseUntil: at(20 + 120_000).toISOString() };
      const t = startExecution(a, at(20), runner);
      expect(await stores[0]!.updateAction(t.next, a.version, t.audit)).toBe(true);
      const executor = countingExecutor();
      const before = await executions(stores[1]!, executor, () => at(60_000), 'host-1').recover();
      expect(before).toEqual({ interrupted: 0, dispatched: 0 });
      expect((await stores[1]!.getAction(a.id))!.status).toBe('running');
      const after = [executions(stores[1]!, executor, () => at(121_000), 'host-1'), executions(stores[2]!, executor, () => at(121_000), 'host-2')];
      const r = await Promise.all(after.map((e) => e.recover()));
      await Promise.all(after.map((e) => e.drain()));
      expect(r.reduce((n, x) => n + x.interrupted, 0)).toBe(1);
      const stored = (await stores[2]!.getAction(a.id))!;
      expect(stored.status).toBe('failed');
      expect(stored.result).toMatchObject({ ok: false, reason: 'interrupted' });
      expect(executor.calls).toEqual([]);
      expect((await typesOf(stores[2]!, a.id)).filter((x) => x === 'execution.finished')).toHaveLength(1);
    } finally {
      await cleanup();
    }
  });

  it('replicas claiming deliveries at once each get different ones, and together all of them', async () => {
    const { stores, cleanup } = await replicas();
    try {
      await stores[0]!.channels.startFeed('f', 0);
      const deliveries: NewDelivery[] = range(30).map((i) => ({ channel: `webhook:h${i % 3}`, kind: 'event', actionId: `act-${i}`, eventKey: `msg_${i}`, eventType: 'action.pending', payload: '{}' }));
      await stores[0]!.channels.cycle({ now: T0.toISOString(), feed: { feed: 'f', from: 0, to: 1, deliveries } });
      const rounds = await Promise.all(stores.map((s, i) => s.channels.cycle({ now: at(1).toISOString(), claim: { owner: `replica-${i}`, leaseMs: 60_000, limit: 30 } })));
      const claimed = rounds.flatMap((r) => r.claimed.map((d) => d.eventKey));
      expect(claimed.sort()).toEqual(deliveries.map((d) => d.eventKey).sort());
      // Leased: claiming again before the leases end gets nothing.
      const again = await Promise.all(stores.map((s, i) => s.channels.cycle({ now: at(30_000).toISOString(), claim: { owner: `replica-${i}`, leaseMs: 60_000, limit: 30 } })));
      expect(again.flatMap((r) => r.claimed)).toEqual([]);
      // Replica 0 died with its claims: once they lapse, the others take them over, once each.
      const held = rounds[0]!.claimed.map((d) => d.eventKey).sort();
      for (const [i, r] of rounds.entries()) {
        if (i === 0) continue;
        await stores[i]!.channels.cycle({
          now: at(2).toISOString(),
          finished: r.claimed.map((d) => ({ id: d.id, owner: `replica-${i}`, outcome: { type: 'done' as const }, attempt: { attempt: 1, ok: true, durationMs: 1, at: at(2).toISOString() } })),
        });
      }
      const takeover = await Promise.all(stores.slice(1).map((s, i) => s.channels.cycle({ now: at(61_000).toISOString(), claim: { owner: `replica-${i + 1}`, leaseMs: 60_000, limit: 30 } })));
      expect(takeover.flatMap((r) => r.claimed.map((d) => d.eventKey)).sort()).toEqual(held);
    } finally {
      await cleanup();
    }
  });

  it('retention running on every replica at once deletes each finished delivery once', async () => {
    const { stores, cleanup } = await replicas();
    try {
      await stores[0]!.channels.startFeed('f', 0);
      const deliveries: NewDelivery[] = range(40).map((i) => ({ channel: 'webhook:a', kind: 'event', actionId: `act-${i}`, eventKey: `msg_${i}`, eventType: 'action.pending', payload: '{}' }));
      await stores[0]!.channels.cycle({ now: T0.toISOString(), feed: { feed: 'f', from: 0, to: 1, deliveries } });
      const { claimed } = await stores[0]!.channels.cycle({ now: at(1).toISOString(), claim: { owner: 'r0', leaseMs: 60_000, limit: 40 } });
      await stores[0]!.channels.cycle({
        now: at(2).toISOString(),
        finished: claimed.map((d) => ({ id: d.id, owner: 'r0', outcome: { type: 'done' as const }, attempt: { attempt: 1, ok: true, durationMs: 1, at: at(2).toISOString() } })),
      });
      // Small batches, so that the replicas' prunes overlap.
      const pruned: number[] = [];
      await Promise.all(
        stores.map(async (s) => {
          for (let n = 1; n > 0; ) pruned.push((n = await s.channels.prune(at(HOUR).toISOString(), 5)));
        }),
      );
      expect(pruned.reduce((a, b) => a + b, 0)).toBe(claimed.length);
      expect(await stores[1]!.channels.listDeliveries({ limit: 100 })).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it('one replica at a time holds the checkpoint signer lease; another takes it over once it lapses', async () => {
    const { stores, cleanup } = await replicas();
    try {
      const now = T0.getTime();
      const claims = await Promise.all(stores.map((s, i) => s.claimCursor('lease:checkpoint-signer', `replica-${i}`, now, now + 3000)));
      expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
      const holder = claims.findIndex((c) => c !== undefined);
      const other = (holder + 1) % 3;
      expect(await stores[other]!.claimCursor('lease:checkpoint-signer', `replica-${other}`, now + 2999, now + 5999)).toBeUndefined();
      // The holder died (it stopped renewing): at the lease's end another replica takes it.
      expect(await stores[other]!.claimCursor('lease:checkpoint-signer', `replica-${other}`, now + 3000, now + 6000)).toBeDefined();
      expect(await stores[holder]!.claimCursor('lease:checkpoint-signer', `replica-${holder}`, now + 3001, now + 6001)).toBeUndefined();
    } finally {
      await cleanup();
    }
  });
});
