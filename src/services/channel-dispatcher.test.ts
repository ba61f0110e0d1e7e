import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import type { ActionRecord } from '../domain/action-record.js';
import { applyReview, createAction } from '../domain/lifecycle.js';
import type { Channel, EventSink, MessageRef } from '../ports/channel.js';
import type { ChannelStore } from '../ports/channel-store.js';
import { createChannelDispatcher } from './channel-dispatcher.js';

let dir: string;
let store: SqliteStore;
let now = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => now };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-dispatch-'));
  store = createSqliteStore({ path: join(dir, 'db.sqlite') });
  now = new Date('2030-01-01T00:00:00.000Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A chat channel that records what it was asked to do (a stand-in for Slack or Teams). */
function recordingChannel(name: string, fail = false) {
  const log: string[] = [];
  let n = 0;
  const channel: Channel = {
    name,
    targets: () => ['main'],
    async post(target, card) {
      if (fail) throw new Error(`${name} is down`);
      log.push(`post ${card.status}`);
      return { target, ref: { id: String(++n) } };
    },
    async update(m: MessageRef, card) {
      if (fail) throw new Error(`${name} is down`);
      log.push(`update ${m.ref.id} ${card.status} ${card.requirements.map((r) => r.line).join()}`);
    },
    async reply(m, review) {
      log.push(`reply ${m.ref.id} ${review.reviewer}`);
    },
  };
  return { channel, log };
}

function recordingSink(name: string) {
  const sent: Array<{ id: string; type: string }> = [];
  const sink: EventSink = {
    name: `webhook:${name}`,
    accepts: () => true,
    async send(e) {
      sent.push({ id: e.id, type: (JSON.parse(e.payload) as { type: string }).type });
      return 'HTTP 200';
    },
  };
  return { sink, sent };
}

function dispatcher(chats: Channel[], sinks: EventSink[], owner = 'p1', channels: ChannelStore = store.channels) {
  return createChannelDispatcher(options(chats, sinks, owner, channels));
}

function options(chats: Channel[], sinks: EventSink[], owner = 'p1', channels: ChannelStore = store.channels): Parameters<typeof createChannelDispatcher>[0] {
  return {
    store,
    channels,
    chats,
    sinks,
    clock,
    owner,
    publicUrl: () => 'https://cs.example.com',
    maxAttempts: 5,
    initialBackoffMs: 1000,
    maxBackoffMs: 60_000,
    timeoutMs: 1000,
    concurrency: 4,
    intervalMs: 60_000,
    describe: (e) => String((e as Error).message),
    onError: (e) => {
      throw e;
    },
    random: () => 0.5,
  };
}

async function submitReview(): Promise<ActionRecord> {
  const t = createAction({
    id: `act_${Math.random().toString(36).slice(2, 14).padEnd(12, '0')}`,
    request: { kind: 'http', target: 'github', input: { method: 'POST', path: '/releases' } },
    requester: { id: 'bot', type: 'agent', owner: 'owner@example.com' },
    decision: { outcome: 'review', rules: ['releases'], policyVersion: 'sha256:p', reason: 'needs two', requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum: 2, timeoutMs: 3_600_000 }] },
    now,
  });
  await store.insertAction(t.next, t.audit);
  return t.next;
}

async function approve(a: ActionRecord, who: string): Promise<ActionRecord> {
  const cur = (await store.getAction(a.id))!;
  const t = applyReview(cur, { type: 'human', id: who, groups: ['release'] }, 'approve', { fingerprint: cur.fingerprint, via: 'api', now });
  expect(await store.updateAction(t.next, cur.version, t.audit)).toBe(true);
  return t.next;
}

describe('the channel dispatcher', () => {
  it('delivers what was committed while it was not running (the feed is the durable audit log)', async () => {
    const first = dispatcher([], []);
    await first.start();
    await first.close();
    const a = await submitReview(); // committed with no dispatcher running
    const chat = recordingChannel('slack');
    const hook = recordingSink('all');
    const second = dispatcher([chat.channel], [hook.sink]);
    await second.start();
    await second.sweep();
    await second.close();
    expect(chat.log).toEqual(['post pending']);
    expect(hook.sent.map((e) => e.type)).toEqual(['action.pending']);
    expect(hook.sent[0]!.id).toBe(`msg_${a.id}_1_pending`);
  });

  it('renders the current state: two changes before a sweep make one update and a reply per review', async () => {
    const chat = recordingChannel('slack');
    const d = dispatcher([chat.channel], []);
    await d.start();
    const a = await submitReview();
    await d.sweep();
    await approve(a, 'alice@example.com');
    await approve(a, 'bob@example.com');
    await d.sweep();
    await d.close();
    expect(chat.log).toEqual(['post pending', expect.stringMatching(/^update 1 approved releases: 2\/2/), 'reply 1 alice@example.com', 'reply 1 bob@example.com']);
    expect((await store.channels.messages(a.id, 'slack'))[0]).toMatchObject({ renderedVersion: 3, replied: 2 });
  });

  it('with two processes on one store, delivers each event once', async () => {
    const hook = recordingSink('all');
    const chat = recordingChannel('slack');
    const p1 = dispatcher([chat.channel], [hook.sink], 'p1');
    const p2 = dispatcher([chat.channel], [hook.sink], 'p2');
    await p1.start();
    await p2.start();
    for (let i = 0; i < 5; i++) await submitReview();
    await Promise.all([p1.sweep(), p2.sweep(), p1.sweep(), p2.sweep()]);
    await Promise.all([p1.close(), p2.close()]);
    expect(hook.sent).toHaveLength(5);
    expect(new Set(hook.sent.map((e) => e.id)).size).toBe(5);
    expect(chat.log.filter((l) => l.startsWith('post'))).toHaveLength(5);
  });

  it('a failing channel blocks no other: its delivery is retried later with backoff, and recorded', async () => {
    const down = recordingChannel('teams', true);
    const up = recordingChannel('slack');
    const d = dispatcher([down.channel, up.channel], []);
    await d.start();
    const a = await submitReview();
    await d.sweep();
    expect(up.log).toEqual(['post pending']);
    const [teams] = await store.channels.listDeliveries({ limit: 5, channel: 'teams' });
    expect(teams).toMatchObject({ status: 'pending', attempts: 1, lastError: 'teams is down' });
    expect((await store.channels.attempts(teams!.id))[0]).toMatchObject({ ok: false, detail: 'posted 0, updated 0, replied 0; teams is down' });
    // Backoff: about 1 s (with jitter), not at once.
    expect(Date.parse(teams!.nextAttemptAt) - now.getTime()).toBe(750);
    expect((await store.channels.cycle({ now: now.toISOString(), claim: { owner: 'p9', leaseMs: 1000, limit: 10 } })).claimed).toEqual([]);
    await d.close();
    expect(a.status).toBe('pending');
  });

  it('gives up on a call that outlasts the timeout: its signal aborts with a TimeoutError, the attempt is recorded as failed and retried', async () => {
    const seen: string[] = [];
    const hanging: EventSink = {
      name: 'webhook:slow',
      accepts: () => true,
      send: (_e, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => {
            seen.push((signal.reason as Error).name);
            reject(signal.reason as Error);
          }),
        ),
    };
    const d = createChannelDispatcher({ ...options([], [hanging]), describe: (e) => `${(e as Error).name}: ${(e as Error).message}` });
    await d.start();
    await submitReview();
    await d.sweep();
    await d.close();
    expect(seen).toEqual(['TimeoutError']);
    const [delivery] = await store.channels.listDeliveries({ limit: 5, channel: 'webhook:slow' });
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastError: 'TimeoutError: The operation was aborted due to timeout' });
  });

  it('reconfigured by a reload: an added webhook gets the next event; a removed one gets nothing, its delivery cancelled, never retried', async () => {
    const kept = recordingSink('kept');
    let goneCalls = 0;
    const gone: EventSink = {
      name: 'webhook:gone',
      accepts: () => true,
      send: () => Promise.reject(new Error(`HTTP 503 (call ${++goneCalls})`)),
    };
    const d = dispatcher([], [kept.sink, gone]);
    await d.start();
    await submitReview();
    // `gone` fails: its delivery waits for a retry, then the reload removes it.
    await d.sweep();
    const added = recordingSink('added');
    d.reconfigure({ chats: [], sinks: [kept.sink, added.sink], maxAttempts: 5, initialBackoffMs: 1000, maxBackoffMs: 60_000, timeoutMs: 1000, concurrency: 4, intervalMs: 60_000 });
    await submitReview();
    await d.sweep();
    now = new Date(now.getTime() + 60_000); // the retry is due
    await d.sweep();
    await d.close();
    expect(goneCalls).toBe(1);
    expect(kept.sent.map((e) => e.type)).toEqual(['action.pending', 'action.pending']);
    expect(added.sent.map((e) => e.type)).toEqual(['action.pending']);
    const [cancelled] = await store.channels.listDeliveries({ limit: 5, channel: 'webhook:gone' });
    expect(cancelled).toMatchObject({ status: 'dead', attempts: 2 });
    expect(cancelled!.lastError).toContain('cancelled: channel webhook:gone is not configured');
  });

  it('writes a busy round in small transactions (the store has one writer, shared with the gate), and still delivers every event once', async () => {
    const sizes: Array<{ entries: number; finished: number; claimed: number }> = [];
    const channels: ChannelStore = {
      ...store.channels,
      async cycle(round) {
        const r = await store.channels.cycle(round);
        sizes.push({ entries: round.feed ? round.feed.to - round.feed.from : 0, finished: round.finished?.length ?? 0, claimed: r.claimed.length });
        return r;
      },
    };
    const hook = recordingSink('all');
    const d = dispatcher([], [hook.sink], 'p1', channels);
    await d.start();
    const ids = new Set<string>();
    for (let i = 0; i < 150; i++) ids.add((await submitReview()).id);
    await d.sweep();
    await d.close();
    expect(hook.sent).toHaveLength(150);
    expect(new Set(hook.sent.map((e) => /^msg_(act_\w+?)_\d+_pending$/.exec(e.id)?.[1]))).toEqual(ids);
    // 150 outcomes, claims and feed entries went through, none more than a slice at a time.
    expect(sizes.reduce((n, s) => n + s.finished, 0)).toBe(150);
    expect(sizes.reduce((n, s) => n + s.claimed, 0)).toBe(150);
    expect(Math.max(...sizes.map((s) => s.finished + s.claimed))).toBeLessThanOrEqual(32);
    expect(Math.max(...sizes.map((s) => s.entries))).toBeLessThanOrEqual(64);
    // Each transaction does one kind of work.
    expect(sizes.every((s) => [s.entries, s.finished, s.claimed].filter((n) => n > 0).length <= 1)).toBe(true);
  });

  it('starts the events that fit in one event-loop turn (one hand-off to the delivery thread), but a sync, which renders on the gate\'s thread, one per turn', async () => {
    // Each call notes the turn it started in; the turn counter moves once per event-loop turn.
    let turn = 0;
    let ticking = true;
    const tick = () => setImmediate(() => (turn++, ticking && tick()));
    tick();
    const started: Array<{ kind: string; turn: number }> = [];
    const sink: EventSink = {
      name: 'webhook:all',
      accepts: () => true,
      send: async () => (started.push({ kind: 'event', turn }), 'HTTP 200'),
    };
    const chat = recordingChannel('slack');
    const post = chat.channel.post.bind(chat.channel);
    chat.channel.post = async (target, card, signal) => (started.push({ kind: 'sync', turn }), post(target, card, signal));
    const d = createChannelDispatcher({ ...options([chat.channel], [sink]), concurrency: 8 });
    await d.start();
    for (let i = 0; i < 3; i++) await submitReview();
    await d.sweep();
    await d.close();
    ticking = false;
    const turnsOf = (kind: string) => new Set(started.filter((s) => s.kind === kind).map((s) => s.turn)).size;
    expect(started.filter((s) => s.kind === 'event')).toHaveLength(3);
    expect(started.filter((s) => s.kind === 'sync')).toHaveLength(3);
    // Three events within the concurrency (at most half of it per channel: 4): one turn.
    expect(turnsOf('event')).toBe(1);
    expect(turnsOf('sync')).toBe(3);
  });
});
