import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChannelSet } from '../../src/app/channels-build.js';
import type { createDeliveryThread as CreateThread, DeliveryThread } from '../../src/app/delivery-thread.js';
import type { channelsSchema as ChannelsSchema } from '../../src/config/channels-schema.js';
import type { createWebhookSink as CreateSink } from '../../src/adapters/channels/webhook/webhook-sink.js';
import { startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { until } from './harness.js';
import { CHANNEL, slackPost, submitRelease, useChannelServer } from './channels-harness.js';

// The delivery thread runs compiled code: these tests load it from dist/, as the gateway does.
const dist = (p: string) => fileURLToPath(new URL(`../../dist/${p}`, import.meta.url));
if (!existsSync(dist('app/delivery-thread-worker.js'))) throw new Error('build first (npm test does): dist/ is missing');
const { createDeliveryThread } = (await import(dist('app/delivery-thread.js'))) as { createDeliveryThread: typeof CreateThread };
const { channelsSchema } = (await import(dist('config/channels-schema.js'))) as { channelsSchema: typeof ChannelsSchema };
const { createWebhookSink } = (await import(dist('adapters/channels/webhook/webhook-sink.js'))) as { createWebhookSink: typeof CreateSink };

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
const linux = existsSync('/proc/thread-self');

/** The nice value in a /proc stat file (its field 19). */
function niceOf(statPath: string): number {
  const s = readFileSync(statPath, 'utf8');
  return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[16]);
}

/** The nice value of each thread of a process. */
function threadNices(pid: number | 'self'): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => niceOf(`/proc/${pid}/task/${tid}/stat`));
}

/** A set with one webhook, as buildChannelSet makes it (the thread builds its own sink from `source`). */
function webhookSet(url: string, delivery: Record<string, unknown> = {}): ChannelSet {
  const channels = channelsSchema.parse({ webhooks: [{ name: 'audit', url, secret: SECRET }], delivery });
  const sink = createWebhookSink({ name: 'audit', url, secret: SECRET, events: channels.webhooks[0]!.events });
  return {
    chats: [],
    sinks: [sink],
    versions: new Map(),
    delivery: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 10, timeoutMs: 2000, concurrency: 2, intervalMs: 100 },
    source: { channels, humans: [] },
  };
}

const threads: DeliveryThread[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.allSettled(threads.splice(0).map((t) => t.close()));
  await Promise.allSettled(closers.splice(0).map((c) => c()));
});
function thread(): DeliveryThread {
  const t = createDeliveryThread({ logger: pino({ level: 'silent' }) });
  threads.push(t);
  return t;
}

describe('the delivery thread', () => {
  it('sends a webhook event signed with the configured secret, and the answer comes back to the dispatcher', async () => {
    const hook = await startWebhookReceiver(SECRET);
    closers.push(hook.close);
    const t = thread();
    const [sink] = t.outbound(webhookSet(`${hook.url}/hook`)).sinks;
    const payload = JSON.stringify({ type: 'action.pending', data: { actionId: 'act_1' } });
    expect(await sink!.send({ id: 'msg_thread_1', payload }, AbortSignal.timeout(5000))).toBe('HTTP 200');
    expect(hook.received).toEqual([expect.objectContaining({ id: 'msg_thread_1', type: 'action.pending', verified: true })]);
  });

  it('returns a failed call with its code (HTTP_500), as the dispatcher records and retries it', async () => {
    const hook = await startWebhookReceiver(SECRET);
    closers.push(hook.close);
    hook.control.failNext = 1;
    const [sink] = thread().outbound(webhookSet(`${hook.url}/hook`)).sinks;
    await expect(sink!.send({ id: 'msg_thread_2', payload: '{}' }, AbortSignal.timeout(5000))).rejects.toMatchObject({ code: 'HTTP_500', message: 'HTTP 500' });
  });

  it('sends the calls of one turn together; one whose arguments cannot be sent fails alone, and the others are delivered', async () => {
    const hook = await startWebhookReceiver(SECRET);
    closers.push(hook.close);
    const [sink] = thread().outbound(webhookSet(`${hook.url}/hook`)).sinks;
    const payload = JSON.stringify({ type: 'action.pending', data: { actionId: 'act_1' } });
    // A function cannot be cloned to another thread (DataCloneError).
    const results = await Promise.allSettled([
      sink!.send({ id: 'msg_turn_1', payload }, AbortSignal.timeout(5000)),
      sink!.send({ id: 'msg_turn_2', payload: (() => payload) as unknown as string }, AbortSignal.timeout(5000)),
      sink!.send({ id: 'msg_turn_3', payload }, AbortSignal.timeout(5000)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(hook.received.map((r) => r.id).sort()).toEqual(['msg_turn_1', 'msg_turn_3']);
  });

  it('aborts the call in the thread when the dispatcher gives up on it: the endpoint sees the request closed', async () => {
    let closed = 0;
    let started = 0;
    const server = createServer((req, res) => {
      started++;
      res.on('close', () => closed++);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
    const [sink] = thread().outbound(webhookSet(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`)).sinks;
    const give = new AbortController();
    const sent = sink!.send({ id: 'msg_thread_3', payload: '{}' }, give.signal);
    await until(async () => started, (n) => n === 1);
    give.abort(new Error('the delivery timed out'));
    await expect(sent).rejects.toThrow('the delivery timed out');
    await until(async () => closed, (n) => n === 1);
  });

  it.skipIf(!linux)('runs at the process\'s nice value plus threadNice (at most 19), once its senders are built', async () => {
    const t = thread();
    t.outbound(webhookSet('http://127.0.0.1:9/hook', { threadNice: 7 }));
    await t.ready();
    const expected = Math.min(19, getPriority() + 7);
    expect(t.nice()).toBe(expected);
    // The scheduler's view: one thread of this process has that nice value.
    if (expected !== getPriority()) expect(threadNices('self')).toContain(expected);
  });
});

describe('a gateway with channels', () => {
  const ctx = useChannelServer();

  it.skipIf(!linux)('posts review requests from a thread of its own, whose nice value is the main thread\'s plus 10 (the default)', async () => {
    const a = await submitRelease(ctx);
    expect((await slackPost(ctx, a.id)).channel).toBe(CHANNEL);
    const pid = ctx.server.child.pid!;
    const nices = threadNices(pid);
    const main = niceOf(`/proc/${pid}/stat`);
    const expected = Math.min(19, main + 10);
    if (expected !== main) expect(nices.filter((n) => n === expected)).toHaveLength(1);
    expect(ctx.server.logs.some((l) => l.includes('"msg":"delivery thread priority"') && l.includes(`"nice":${expected}`))).toBe(true);
  });
});
