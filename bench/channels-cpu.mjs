// CPU time per webhook delivery, per thread, in one process: the load-independent measure
// of a change to the channel dispatcher (channels-bench.mjs's latencies move with the
// neighbours on a shared machine). Allowed actions are written to a fresh SQLite store in
// groups of CHANNELS_CPU_GROUP (the actions of one dispatcher round at 200/s), outside the
// measure; then the dispatcher is woken, and the CPU each thread spends until the group's
// events reached two signed webhooks (local receivers in a process of their own, at nice 19)
// is counted: the main thread (the dispatcher: feed, rounds, hand-offs), the store's writer
// thread, the delivery thread (HTTP and signatures) and the rest (V8's GC and compiler
// helpers). As in the gateway, a group's outcomes are recorded by the next round. Also
// counted: the dispatcher's transactions (store cycles) per delivery.
// Not a `-bench.mjs`: `npm run bench` does not run it; channels-bench.mjs does and reports it.
//
//   node bench/channels-cpu.mjs [compiled dist directory, default: ./dist]   CHANNELS_CPU_ACTIONS=2000 CHANNELS_CPU_GROUP=20
//
// Prints one JSON line.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomBytes } from 'node:crypto';
import { startNode, writeChannelFakes } from './channels-fixture.mjs';
import { threadCpu } from './proc-cpu.mjs';

const root = process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url));
const dist = (p) => import(pathToFileURL(join(root, p)).href);
const { createSqliteStore } = await dist('adapters/store/sqlite/sqlite-store.js');
const { createAction } = await dist('domain/lifecycle.js');
const { createChannelDispatcher } = await dist('services/channel-dispatcher.js');
const { createDeliveryThread } = await dist('app/delivery-thread.js');
const { createWebhookSink } = await dist('adapters/channels/webhook/webhook-sink.js');
const { channelsSchema } = await dist('config/channels-schema.js');
const { createLogger } = await dist('logger.js');

const N = Number(process.env.CHANNELS_CPU_ACTIONS ?? 2000);
const GROUP = Number(process.env.CHANNELS_CPU_GROUP ?? 20);
const decision = { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:bench', reason: 'reads are allowed', requirements: [] };
const tids = () => new Set(readdirSync(`/proc/${process.pid}/task`));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** CPU µs of the given threads between two threadCpu readings (the main thread is `main`). */
function spent(before, after, group) {
  let us = 0;
  for (const tid of group) us += tid === 'main' ? after.main - before.main : (after.others.get(tid) ?? 0) - (before.others.get(tid) ?? 0);
  return us;
}

/** Writes n allowed actions (their submitted and decided entries), as the gate would. */
function submit(store, n) {
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const t = createAction({ id: `act-${randomBytes(8).toString('hex')}`, request: { kind: 'http', target: 'api', input: { method: 'GET', path: `/v1/items/${i}` } }, requester: { id: 'bench-bot', type: 'agent', owner: 'owner@example.com' }, decision, now: new Date() });
      return store.insertAction(t.next, t.audit);
    }),
  );
}

async function run(fakesUrl, n) {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-channels-cpu-'));
  const before = tids();
  const store = createSqliteStore({ path: join(dir, 'bench.db') });
  const writer = [...tids()].filter((t) => !before.has(t));
  const secret = () => `whsec_${randomBytes(32).toString('base64')}`;
  const channels = channelsSchema.parse({ webhooks: [{ name: 'pager', url: `${fakesUrl}/hook/1`, secret: secret() }, { name: 'tickets', url: `${fakesUrl}/hook/2`, secret: secret() }] });
  const known = tids();
  const thread = createDeliveryThread({ logger: createLogger('warn') });
  const out = thread.outbound({ chats: [], sinks: channels.webhooks.map((w) => createWebhookSink({ name: w.name, url: w.url, secret: w.secret, events: w.events })), versions: new Map(), delivery: { timeoutMs: 10_000 }, source: { channels, humans: [] } });
  await thread.ready();
  const delivery = [...tids()].filter((t) => !known.has(t));
  // Sends that returned, and the dispatcher's transactions, counted on their way.
  const counts = { sent: 0, recorded: 0, cycles: 0 };
  const sinks = out.sinks.map((s) => ({ ...s, send: (e, signal) => s.send(e, signal).finally(() => (counts.sent += 1)) }));
  const cycle = store.channels.cycle;
  const channelStore = { ...store.channels, cycle: (r) => ((counts.cycles += 1), cycle(r).then((x) => ((counts.recorded += r.finished?.length ?? 0), x))) };
  const dispatcher = createChannelDispatcher({
    store,
    channels: channelStore,
    chats: [],
    sinks,
    clock: { now: () => new Date() },
    owner: 'bench',
    publicUrl: () => 'http://127.0.0.1:1',
    maxAttempts: 12,
    initialBackoffMs: 1000,
    maxBackoffMs: 900_000,
    timeoutMs: 10_000,
    concurrency: 8,
    intervalMs: 60_000,
    describe: (e) => String(e?.message ?? e),
    onError: (e, context) => console.error(context, e),
  });
  await dispatcher.start();
  await sleep(200);
  const total = { main: 0, writer: 0, delivery: 0, rest: 0 };
  const cycles0 = counts.cycles;
  const until = async (ok) => {
    while (!ok()) await sleep(5);
  };
  for (let done = 0; done < n; done += GROUP) {
    await submit(store, GROUP);
    const c0 = threadCpu(process.pid);
    dispatcher.wake();
    await until(() => counts.sent >= 2 * (done + GROUP));
    if (done + GROUP >= n) {
      // The last group's outcomes: the round that records them is counted too.
      dispatcher.wake();
      await until(() => counts.recorded >= 2 * (done + GROUP));
    }
    const c1 = threadCpu(process.pid);
    const rest = [...c1.others.keys()].filter((t) => !writer.includes(t) && !delivery.includes(t));
    total.main += spent(c0, c1, ['main']);
    total.writer += spent(c0, c1, writer);
    total.delivery += spent(c0, c1, delivery);
    total.rest += spent(c0, c1, rest);
  }
  const cycles = counts.cycles - cycles0;
  await dispatcher.close();
  await thread.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return { ...total, cycles };
}

const dir = mkdtempSync(join(tmpdir(), 'countersign-channels-cpu-fakes-'));
const fakes = await startNode([writeChannelFakes(dir)]);
setPriority(fakes.child.pid, 19);
try {
  const load0 = loadavg()[0];
  // A first, shorter pass warms the code up; the second is measured.
  await run(fakes.url, Math.min(N, 400));
  const r = await run(fakes.url, N);
  const deliveries = 2 * N;
  const per = (us) => Math.round(us / deliveries);
  console.log(
    JSON.stringify({
      actions: N,
      group: GROUP,
      deliveries,
      usPerDelivery: { main: per(r.main), writer: per(r.writer), delivery: per(r.delivery), rest: per(r.rest) },
      cyclesPerDelivery: +(r.cycles / deliveries).toFixed(3),

      load: [+load0.toFixed(2), +loadavg()[0].toFixed(2)],
    }),
  );
} finally {
  fakes.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
