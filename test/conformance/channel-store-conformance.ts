// The ChannelStore port's promises, for every store that implements it.
import { describe, expect, it } from 'vitest';
import type { ChannelStore, DeliveryAttempt, DeliveryOutcome, FinishedDelivery, NewDelivery } from '../../src/ports/channel-store.js';
import type { Store } from '../../src/ports/store.js';
import { T0, agentA, at, insert, newAction, review } from './store-fixtures.js';

type Stores = Store & { channels: ChannelStore };

// The dispatcher's one call, taken apart: move the feed, claim, finish.
const advance = (s: Stores, feed: string, from: number, to: number, deliveries: NewDelivery[], now: string) => s.channels.cycle({ now, feed: { feed, from, to, deliveries } }).then((r) => r.advanced);
const claim = (s: Stores, owner: string, now: string, leaseMs: number, limit: number, skip?: string[]) => s.channels.cycle({ now, claim: { owner, leaseMs, limit, skip } }).then((r) => r.claimed);
const finish = (s: Stores, id: number, owner: string, outcome: DeliveryOutcome, a: DeliveryAttempt, messages?: FinishedDelivery['messages']) =>
  s.channels.cycle({ now: a.at, finished: [{ id, owner, outcome, attempt: a, messages }] }).then((r) => r.settled[0]);

const attempt = (ms: number, ok = true) => ({ attempt: 1, ok, detail: ok ? 'ok' : 'HTTP 503', durationMs: 5, at: at(ms).toISOString() });

export function channelStoreConformance(name: string, open: () => Stores | Promise<Stores>) {
  describe(`${name}: ChannelStore`, () => {
    it('starts a feed once; moving it is a compare-and-swap, and a lost race enqueues nothing', async () => {
      const s = await open();
      expect(await s.channels.feedPosition('f')).toBeUndefined();
      expect(await s.channels.startFeed('f', 5)).toBe(5);
      expect(await s.channels.startFeed('f', 9)).toBe(5);
      const d = { channel: 'webhook:a', kind: 'event' as const, actionId: 'act-x', eventKey: 'msg_1', eventType: 'action.pending', payload: '{}' };
      expect(await advance(s, 'f', 4, 7, [d], T0.toISOString())).toBe(false);
      expect(await s.channels.listDeliveries({ limit: 10 })).toEqual([]);
      expect(await advance(s, 'f', 5, 7, [d], T0.toISOString())).toBe(true);
      expect(await s.channels.feedPosition('f')).toBe(7);
      expect(await s.channels.listDeliveries({ limit: 10 })).toHaveLength(1);
    });

    it('stores an event once per channel and id, and one pending sync per channel and action', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      const ev = { channel: 'webhook:a', kind: 'event' as const, actionId: 'act-x', eventKey: 'msg_1', eventType: 'action.pending', payload: '{"a":1}' };
      const sync = { channel: 'slack', kind: 'sync' as const, actionId: 'act-x' };
      await advance(s, 'f', 0, 1, [ev, sync, sync], T0.toISOString());
      await advance(s, 'f', 1, 2, [ev, { ...ev, channel: 'webhook:b' }, sync], at(1000).toISOString());
      const rows = await s.channels.listDeliveries({ limit: 10 });
      expect(rows.map((r) => [r.channel, r.kind, r.eventKey ?? null]).sort()).toEqual([
        ['slack', 'sync', null],
        ['webhook:a', 'event', 'msg_1'],
        ['webhook:b', 'event', 'msg_1'],
      ]);
      expect(rows.find((r) => r.channel === 'webhook:a')!.payload).toBe('{"a":1}');
    });

    it('leases what is due to one owner, in order per channel and action, skipping busy channels', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      const ev = (key: string, actionId = 'act-x', channel = 'webhook:a') => ({ channel, kind: 'event' as const, actionId, eventKey: key, eventType: 'action.pending', payload: '{}' });
      await advance(s, 'f', 0, 1, [ev('m1'), ev('m2'), ev('m3', 'act-y'), ev('m4', 'act-z', 'webhook:b')], T0.toISOString());
      const first = await claim(s, 'one', T0.toISOString(), 60_000, 10, ['webhook:b']);
      // m2 waits behind m1 (same channel and action); webhook:b is skipped.
      expect(first.map((d) => d.eventKey).sort()).toEqual(['m1', 'm3']);
      expect(await claim(s, 'two', T0.toISOString(), 60_000, 10)).toEqual([expect.objectContaining({ eventKey: 'm4' })]);
      // Leased: nobody else gets them until the lease runs out.
      expect(await claim(s, 'two', at(59_000).toISOString(), 60_000, 10)).toEqual([]);
      const m1 = first.find((d) => d.eventKey === 'm1')!;
      expect(await finish(s, m1.id, 'one', { type: 'done' }, attempt(100))).toBe('done');
      expect((await claim(s, 'two', at(200).toISOString(), 60_000, 10)).map((d) => d.eventKey)).toEqual(['m2']);
      // A lease that ran out is taken over; the first owner's late result is refused.
      const m3 = first.find((d) => d.eventKey === 'm3')!;
      expect((await claim(s, 'two', at(61_000).toISOString(), 60_000, 10)).map((d) => d.eventKey)).toContain('m3');
      expect(await finish(s, m3.id, 'one', { type: 'done' }, attempt(61_500))).toBe('lost');
      expect(await finish(s, m3.id, 'two', { type: 'done' }, attempt(61_600))).toBe('done');
    });

    it('does all of a round in one call: the feed moves, outcomes are recorded, and what is due is claimed', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      const ev = (key: string) => ({ channel: 'webhook:a', kind: 'event' as const, actionId: `act-${key}`, eventKey: key, eventType: 'action.pending', payload: '{}' });
      const r1 = await s.channels.cycle({ now: T0.toISOString(), feed: { feed: 'f', from: 0, to: 3, deliveries: [ev('a'), ev('b')] }, claim: { owner: 'one', leaseMs: 1000, limit: 1 } });
      expect(r1).toMatchObject({ advanced: true, settled: [] });
      expect(r1.claimed.map((d) => d.eventKey)).toEqual(['a']);
      const r2 = await s.channels.cycle({
        now: at(10).toISOString(),
        finished: [{ id: r1.claimed[0]!.id, owner: 'one', outcome: { type: 'done' }, attempt: attempt(10) }],
        claim: { owner: 'one', leaseMs: 1000, limit: 5 },
      });
      expect(r2.settled).toEqual(['done']);
      expect(r2.claimed.map((d) => d.eventKey)).toEqual(['b']);
      expect(r2.advanced).toBeUndefined();
    });

    it('records every attempt; a retry waits until its time; after the last attempt it is dead', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      await advance(s, 'f', 0, 1, [{ channel: 'webhook:a', kind: 'event', actionId: 'act-x', eventKey: 'm1', eventType: 'action.pending', payload: '{}' }], T0.toISOString());
      const [d] = await claim(s, 'one', T0.toISOString(), 60_000, 10);
      expect(await finish(s, d!.id, 'one', { type: 'retry', at: at(5000).toISOString(), error: 'HTTP 503' }, attempt(10, false))).toBe('pending');
      expect(await claim(s, 'one', at(4999).toISOString(), 60_000, 10)).toEqual([]);
      const [again] = await claim(s, 'one', at(5000).toISOString(), 60_000, 10);
      expect(again).toMatchObject({ id: d!.id, attempts: 1, lastError: 'HTTP 503' });
      expect(await finish(s, d!.id, 'one', { type: 'dead', error: 'HTTP 503' }, attempt(5010, false))).toBe('dead');
      expect(await claim(s, 'one', at(999_999).toISOString(), 60_000, 10)).toEqual([]);
      expect((await s.channels.attempts(d!.id)).map((x) => [x.attempt, x.ok])).toEqual([
        [1, false],
        [2, false],
      ]);
      expect(await s.channels.listDeliveries({ limit: 10, status: 'dead' })).toHaveLength(1);
    });

    it('a sync is done only once its messages show the action\'s current version; the references are kept', async () => {
      const s = await open();
      const a = newAction({ decision: review(), requester: agentA });
      await insert(s, a);
      await s.channels.startFeed('f', 0);
      await advance(s, 'f', 0, 1, [{ channel: 'slack', kind: 'sync', actionId: a.next.id }], T0.toISOString());
      const [d] = await claim(s, 'one', T0.toISOString(), 60_000, 10);
      const stale = { target: 'C1', ref: { channel: 'C1', ts: '1.2' }, renderedVersion: 0, replied: 0 };
      expect(await finish(s, d!.id, 'one', { type: 'done' }, attempt(1), { actionId: a.next.id, channel: 'slack', list: [stale] })).toBe('pending');
      expect(await s.channels.messages(a.next.id, 'slack')).toEqual([stale]);
      const [again] = await claim(s, 'one', at(2).toISOString(), 60_000, 10);
      const fresh = { ...stale, renderedVersion: a.next.version, replied: 0 };
      expect(await finish(s, again!.id, 'one', { type: 'done' }, attempt(3), { actionId: a.next.id, channel: 'slack', list: [fresh] })).toBe('done');
      expect(await s.channels.messages(a.next.id, 'slack')).toEqual([fresh]);
      expect(await s.channels.messages(a.next.id, 'teams')).toEqual([]);
    });

    it('prunes finished deliveries past their retention with their attempts, never pending ones', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      const ev = (key: string) => ({ channel: 'webhook:a', kind: 'event' as const, actionId: `act-${key}`, eventKey: key, eventType: 'action.pending', payload: '{}' });
      await advance(s, 'f', 0, 1, [ev('old'), ev('kept'), ev('waiting')], T0.toISOString());
      const claimed = await claim(s, 'one', T0.toISOString(), 60_000, 10);
      const id = (k: string) => claimed.find((d) => d.eventKey === k)!.id;
      await finish(s, id('old'), 'one', { type: 'done' }, attempt(1000));
      await finish(s, id('kept'), 'one', { type: 'dead', error: 'x' }, attempt(5000));
      await finish(s, id('waiting'), 'one', { type: 'retry', at: at(2000).toISOString(), error: 'x' }, attempt(500, false));
      expect(await s.channels.prune(at(3000).toISOString(), 10)).toBe(1);
      expect((await s.channels.listDeliveries({ limit: 10 })).map((d) => d.eventKey).sort()).toEqual(['kept', 'waiting']);
      expect(await s.channels.attempts(id('old'))).toEqual([]);
      expect(await s.channels.prune(at(999_999).toISOString(), 10)).toBe(1);
      expect((await s.channels.listDeliveries({ limit: 10 })).map((d) => d.eventKey)).toEqual(['waiting']);
    });

    it('remembers an interaction once, and forgets old ones', async () => {
      const s = await open();
      expect(await s.channels.rememberInteraction('slack:k', T0.toISOString(), at(-1).toISOString())).toBe(true);
      expect(await s.channels.rememberInteraction('slack:k', at(1000).toISOString(), at(-1).toISOString())).toBe(false);
      expect(await s.channels.rememberInteraction('slack:j', at(2000).toISOString(), at(1500).toISOString())).toBe(true);
      expect(await s.channels.rememberInteraction('slack:k', at(3000).toISOString(), at(1500).toISOString())).toBe(true);
    });

    it('cancels the pending deliveries of removed channels, with its audit entry, and a running attempt is then lost', async () => {
      const s = await open();
      await s.channels.startFeed('f', 0);
      const ev = (key: string, channel: string) => ({ channel, kind: 'event' as const, actionId: 'act-x', eventKey: key, eventType: 'action.pending', payload: '{}' });
      await advance(s, 'f', 0, 1, [ev('m1', 'webhook:gone'), ev('m2', 'webhook:gone'), ev('m3', 'webhook:kept')], T0.toISOString());
      const running = (await claim(s, 'one', T0.toISOString(), 60_000, 10)).find((d) => d.eventKey === 'm1')!;
      const size = await s.auditSize();
      const entry = { type: 'config.loaded' as const, ts: at(10).toISOString(), actor: { type: 'system' as const, id: 'countersign' }, data: { removed: ['webhook:gone'] } };
      const n = await s.channels.cancelPending({ channels: ['webhook:gone'], now: at(10).toISOString(), error: 'cancelled: removed', entry });
      expect(n).toBe(2);
      const rows = await s.channels.listDeliveries({ limit: 10 });
      expect(rows.filter((r) => r.channel === 'webhook:gone').map((r) => [r.status, r.lastError])).toEqual([
        ['dead', 'cancelled: removed'],
        ['dead', 'cancelled: removed'],
      ]);
      expect(rows.find((r) => r.channel === 'webhook:kept')!.status).toBe('pending');
      const [logged] = await s.readAudit(size, size + 1);
      expect(logged).toMatchObject({ type: 'config.loaded', data: { removed: ['webhook:gone'], cancelledDeliveries: 2 } });
      // The attempt that was running when the channel went away is not recorded as a retry.
      expect(await finish(s, running.id, 'one', { type: 'retry', at: at(500).toISOString(), error: 'HTTP 503' }, attempt(100, false))).toBe('lost');
      expect(await s.channels.cancelPending({ channels: ['webhook:gone'], now: at(20).toISOString(), error: 'x', entry })).toBe(0);
    });
  });
}
