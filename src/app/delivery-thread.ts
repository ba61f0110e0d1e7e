import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Channel, EventSink } from '../ports/channel.js';
import type { ChannelSet } from './channels-build.js';
import type { SenderCall, ThreadReply, ThreadRequest } from './delivery-thread-protocol.js';
import { fromWireError } from './delivery-thread-protocol.js';

const WORKER_URL = new URL('./delivery-thread-worker.js', import.meta.url);

/** The thread runs compiled code; from TypeScript sources (unit tests) the calls stay on the main thread. */
export function deliveryThreadAvailable(url: URL = WORKER_URL): boolean {
  return url.protocol === 'file:' && existsSync(fileURLToPath(url));
}

/**
 * The delivery thread, seen from the dispatcher. The dispatcher keeps everything that
 * makes a promise (reading the audit log, leases, outcomes, retries, the feed cursor):
 * only the calls that go over the network (Slack, Teams, signed webhooks) move to the
 * thread, where their SDK, HTTP and signing CPU no longer delays the gate's requests and,
 * on Linux, runs at a lower priority (`channels.delivery.threadNice`).
 */
export interface DeliveryThread {
  /**
   * A channel set as the dispatcher uses it: names, targets and event filters answered
   * here, calls made in the thread with the same config's clients. The set given before
   * is retired once its calls can no longer be running (its delivery timeout).
   */
  outbound(set: ChannelSet): { chats: Channel[]; sinks: EventSink[] };
  /** Resolves once the thread has built the last set's senders (or could not, or stopped): its first calls then never wait for the SDKs to load. */
  ready(): Promise<void>;
  /** The thread's nice value as it last said (undefined before it did, or off Linux). */
  nice(): number | undefined;
  close(): Promise<void>;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export function createDeliveryThread(opts: { logger: Logger; url?: URL }): DeliveryThread {
  const log = opts.logger;
  const pending = new Map<number, Pending>();
  /** The senders messages of the generations in use: a restarted thread gets them again. */
  const live = new Map<number, Extract<ThreadRequest, { type: 'senders' }>>();
  let current: { gen: number; timeoutMs: number } | undefined;
  let nextId = 1;
  let nextGen = 1;
  let nice: number | undefined;
  let closed = false;
  let worker: Worker | undefined;
  /** Generations whose senders the thread is still building: resolved when it says they are ready. */
  const waiting = new Map<number, () => void>();
  let ready: Promise<void> = Promise.resolve();

  const updateRef = () => (pending.size ? worker?.ref() : worker?.unref());

  function spawn(): Worker {
    const w = new Worker(opts.url ?? WORKER_URL, { workerData: { level: log.level } });
    w.on('message', (m: ThreadReply) => {
      switch (m.type) {
        case 'results':
          for (const r of m.results) {
            const p = pending.get(r.id);
            pending.delete(r.id);
            if (r.ok) p?.resolve(r.value);
            else p?.reject(fromWireError(r.error));
          }
          updateRef();
          break;
        case 'ready':
          if (m.error) log.error({ err: fromWireError(m.error) }, 'the delivery thread could not build its channels');
          if (m.nice !== nice) log.info({ nice: m.nice }, 'delivery thread priority');
          nice = m.nice;
          waiting.get(m.gen)?.();
          waiting.delete(m.gen);
          break;
        case 'log':
          relay(log, m.line);
          break;
      }
    });
    w.on('error', (e) => log.error({ err: e }, 'delivery thread failed'));
    w.on('exit', () => {
      if (worker !== w) return;
      worker = undefined;
      // Calls in flight fail (recorded, retried with backoff); the next call starts a new thread.
      outbox = [];
      const lost = [...pending.values()];
      pending.clear();
      for (const p of lost) p.reject(Object.assign(new Error('the delivery thread stopped'), { code: 'DELIVERY_THREAD_STOPPED' }));
      for (const done of waiting.values()) done();
      waiting.clear();
    });
    for (const m of live.values()) w.postMessage(m);
    return w;
  }

  /** Calls not sent yet: those started in one turn go to the thread in one message, at the end of it. */
  let outbox: Extract<ThreadRequest, { type: 'calls' }>['calls'] = [];
  function flush(): void {
    if (!outbox.length) return;
    const calls = outbox;
    outbox = [];
    worker ??= spawn();
    try {
      worker.postMessage({ type: 'calls', calls } satisfies ThreadRequest);
    } catch {
      // A call whose arguments cannot be cloned: sent one by one, so that only that call fails.
      for (const c of calls) {
        try {
          worker.postMessage({ type: 'calls', calls: [c] } satisfies ThreadRequest);
        } catch (e) {
          const p = pending.get(c.id);
          pending.delete(c.id);
          p?.reject(e instanceof Error ? e : new Error(String(e)));
        }
      }
      updateRef();
    }
  }

  function post(m: ThreadRequest): void {
    if (closed) throw Object.assign(new Error('channels are closed'), { code: 'DELIVERY_THREAD_STOPPED' });
    // Messages reach the thread in the order they were made: calls waiting go first.
    flush();
    worker ??= spawn();
    worker.postMessage(m);
    updateRef();
  }

  /** Queues a call for this turn's message. */
  function send(c: Extract<ThreadRequest, { type: 'calls' }>['calls'][number]): void {
    if (closed) throw Object.assign(new Error('channels are closed'), { code: 'DELIVERY_THREAD_STOPPED' });
    if (outbox.push(c) === 1) queueMicrotask(flush);
    worker ??= spawn();
    updateRef();
  }

  /** One call in the thread; the dispatcher's timeout (its signal) aborts it there too. */
  function call(gen: number, c: SenderCall, signal: AbortSignal): Promise<unknown> {
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!pending.delete(id)) return;
        flush();
        worker?.postMessage({ type: 'abort', id } satisfies ThreadRequest);
        updateRef();
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const done = () => signal.removeEventListener('abort', onAbort);
      pending.set(id, { resolve: (v) => (done(), resolve(v)), reject: (e) => (done(), reject(e)) });
      try {
        send({ id, gen, ...c });
      } catch (e) {
        pending.delete(id);
        done();
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  return {
    outbound(set) {
      if (current) {
        live.delete(current.gen);
        post({ type: 'retire', gen: current.gen, afterMs: current.timeoutMs + 5_000 });
        current = undefined;
      }
      if (!set.source) return { chats: [], sinks: [] };
      const gen = nextGen++;
      const m: ThreadRequest = { type: 'senders', gen, channels: set.source.channels, humans: set.source.humans, nice: set.source.channels.delivery.threadNice };
      live.set(gen, m);
      ready = new Promise<void>((resolve) => waiting.set(gen, resolve));
      post(m);
      current = { gen, timeoutMs: set.delivery.timeoutMs };
      const chats = set.chats.map(
        (c): Channel => ({
          name: c.name,
          targets: (a) => c.targets(a),
          post: (target, card, signal) => call(gen, { op: 'post', channel: c.name, args: [target, card] }, signal) as ReturnType<Channel['post']>,
          update: async (message, card, signal) => void (await call(gen, { op: 'update', channel: c.name, args: [message, card] }, signal)),
          reply: async (message, review, action, signal) => void (await call(gen, { op: 'reply', channel: c.name, args: [message, review, action] }, signal)),
        }),
      );
      const sinks = set.sinks.map(
        (s): EventSink => ({
          name: s.name,
          accepts: (type, a) => s.accepts(type, a),
          send: (event, signal) => call(gen, { op: 'send', channel: s.name, args: [event] }, signal) as Promise<string>,
        }),
      );
      return { chats, sinks };
    },
    ready: () => ready,
    nice: () => nice,
    async close() {
      closed = true;
      outbox = [];
      const w = worker;
      worker = undefined;
      for (const p of pending.values()) p.reject(Object.assign(new Error('channels are closed'), { code: 'DELIVERY_THREAD_STOPPED' }));
      pending.clear();
      for (const done of waiting.values()) done();
      waiting.clear();
      await w?.terminate();
    },
  };
}

/** A log line of the thread, written through the main logger (its level, redaction and destination). */
function relay(log: Logger, line: string): void {
  try {
    const { level, msg, ...rest } = JSON.parse(line) as { level: number; msg?: string } & Record<string, unknown>;
    const at = level >= 50 ? 'error' : level >= 40 ? 'warn' : level >= 30 ? 'info' : 'debug';
    log[at]({ thread: 'delivery', ...rest }, msg ?? '');
  } catch {
    log.warn({ thread: 'delivery' }, 'unreadable log line from the delivery thread');
  }
}
