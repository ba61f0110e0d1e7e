import type { ActionRecord } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import type { NewDelivery, Delivery, DeliveryOutcome, ChannelStore } from '../ports/channel-store.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import { backoffMs, eventBody, eventId, feedEffect } from '../domain/notify-feed.js';
import { syncChat } from './channel-sync.js';

/**
 * Delivers review requests, message updates, thread replies and webhook events.
 *
 * - The feed is the audit log, read from a durable cursor: every committed state change
 *   has entries written in its own transaction, so nothing is lost on a crash and the
 *   gate's hot path gets no extra write. Turning entries into deliveries and moving the
 *   cursor is one transaction (compare-and-swap on the cursor), so with several
 *   processes each entry is enqueued once.
 * - Chat deliveries are state-based: a `sync` renders the action's CURRENT state and
 *   stores, per message, the version it shows; if the action moved on meanwhile, the
 *   sync stays pending and runs again. Webhook deliveries are events with a fixed body.
 * - Deliveries are claimed with a lease, run concurrently (one failing or hanging never
 *   holds up the others: each has a timeout), retried with exponential backoff, and every
 *   attempt is recorded. In-process events only wake the dispatcher early; a timer sweeps
 *   anyway, so a change committed by another process is delivered too.
 */
export interface ChannelDispatcher {
  /** Starts the feed (at the log's end the first time), then sweeps on a timer. */
  start(): Promise<void>;
  /** Something committed: sweep soon. Never blocks, never throws. */
  wake(): void;
  /** Sweeps until nothing more is enqueued or due, waiting for every delivery (tests, tools). */
  sweep(): Promise<{ enqueued: number; delivered: number }>;
  /** Stops the timer and waits for deliveries in flight. */
  close(): Promise<void>;
}

export interface DispatcherOptions {
  store: Pick<Store, 'readAudit' | 'auditSize' | 'getAction'>;
  channels: ChannelStore;
  chats: readonly Channel[];
  sinks: readonly EventSink[];
  clock: Clock;
  /** Unique per process: the lease owner. */
  owner: string;
  publicUrl(): string;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  concurrency: number;
  intervalMs: number;
  /** Delay that gathers the events of a burst into one feed read. */
  wakeDelayMs?: number;
  /** Makes an error safe to record (no secrets). */
  describe(e: unknown): string;
  onError(e: unknown, context: string): void;
  random?: () => number;
}

export const FEED = 'channels';
const FEED_BATCH = 500;

export function createChannelDispatcher(o: DispatcherOptions): ChannelDispatcher {
  const random = o.random ?? Math.random;
  const wakeDelay = o.wakeDelayMs ?? 20;
  const chats = new Map(o.chats.map((c) => [c.name, c]));
  const sinks = new Map(o.sinks.map((s) => [s.name, s]));
  const inFlight = new Map<number, { channel: string; done: Promise<void> }>();
  let timer: NodeJS.Timeout | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let again = false;
  let closed = false;

  async function readFeed(): Promise<number> {
    let enqueued = 0;
    for (;;) {
      const from = (await o.channels.feedPosition(FEED)) ?? (await o.channels.startFeed(FEED, await o.store.auditSize()));
      const entries = await o.store.readAudit(from, from + FEED_BATCH);
      if (entries.length === 0) return enqueued;
      const actions = new Map<string, ActionRecord | undefined>();
      const action = async (id: string) => {
        if (!actions.has(id)) actions.set(id, await o.store.getAction(id));
        return actions.get(id);
      };
      const out: NewDelivery[] = [];
      const syncs = new Set<string>();
      for (const e of entries) {
        const effect = feedEffect(e);
        if (!effect) continue;
        const a = await action(effect.actionId);
        if (!a) continue;
        // Only actions that needed review have chat messages.
        if (effect.sync && a.review) for (const c of chats.keys()) syncs.add(`${c}\n${a.id}`);
        for (const type of effect.events) {
          for (const s of sinks.values()) {
            if (!s.accepts(type, a)) continue;
            out.push({ channel: s.name, kind: 'event', actionId: a.id, eventKey: eventId(a.id, e.seq, type), eventType: type, payload: JSON.stringify(eventBody(type, e, a, o.publicUrl())) });
          }
        }
      }
      for (const key of syncs) {
        const [channel, actionId] = key.split('\n') as [string, string];
        out.push({ channel, kind: 'sync', actionId });
      }
      const to = entries[entries.length - 1]!.seq + 1;
      // Lost to another process: it enqueued these; read on from where it left the cursor.
      if (await o.channels.advanceFeed(FEED, from, to, out, o.clock.now().toISOString())) enqueued += out.length;
      if (entries.length < FEED_BATCH) return enqueued;
    }
  }

  function outcomeFor(d: Delivery, error: unknown): DeliveryOutcome {
    const attempt = d.attempts + 1;
    const message = o.describe(error);
    if (attempt >= o.maxAttempts) return { type: 'dead', error: message };
    const at = new Date(o.clock.now().getTime() + backoffMs(attempt, o.initialBackoffMs, o.maxBackoffMs, random())).toISOString();
    return { type: 'retry', at, error: message };
  }

  function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(() => {
        const e = new Error(`timed out after ${o.timeoutMs} ms`);
        e.name = 'TimeoutError';
        ac.abort(e);
        reject(e);
      }, o.timeoutMs);
    });
    return Promise.race([work(ac.signal), timeout]).finally(() => clearTimeout(t));
  }

  async function run(d: Delivery): Promise<void> {
    const started = Date.now();
    let outcome: DeliveryOutcome = { type: 'done' };
    let detail: string;
    let ok = true;
    let messages: { actionId: string; channel: string; list: Awaited<ReturnType<ChannelStore['messages']>> } | undefined;
    try {
      if (d.kind === 'event') {
        const sink = sinks.get(d.channel);
        if (!sink) throw new Error(`no webhook named ${d.channel} is configured`);
        detail = await withTimeout((signal) => sink.send({ id: d.eventKey!, payload: d.payload ?? '{}' }, signal));
      } else {
        const chat = chats.get(d.channel);
        if (!chat) throw new Error(`channel ${d.channel} is not configured`);
        const action = await o.store.getAction(d.actionId);
        if (!action) throw new Error(`no action ${d.actionId}`);
        const stored = await o.channels.messages(d.actionId, d.channel);
        const r = await withTimeout((signal) => syncChat(chat, action, stored, o.publicUrl(), signal));
        messages = { actionId: d.actionId, channel: d.channel, list: r.messages };
        detail = r.detail;
        if (r.error !== undefined) {
          ok = false;
          detail = `${r.detail}; ${o.describe(r.error)}`;
          outcome = outcomeFor(d, r.error);
        }
      }
    } catch (e) {
      ok = false;
      detail = o.describe(e);
      outcome = outcomeFor(d, e);
    }
    const attempt = { attempt: d.attempts + 1, ok, detail, durationMs: Date.now() - started, at: o.clock.now().toISOString() };
    await o.channels.finish(d.id, o.owner, outcome, attempt, messages);
  }

  /** Claims what is due (within the concurrency, and at most half of it per channel) and starts it. */
  async function deliverDue(): Promise<number> {
    let delivered = 0;
    const perChannel = Math.max(1, Math.ceil(o.concurrency / 2));
    for (;;) {
      const room = o.concurrency - inFlight.size;
      if (room <= 0 || closed) break;
      const busy = new Map<string, number>();
      for (const c of inFlight.values()) busy.set(c.channel, (busy.get(c.channel) ?? 0) + 1);
      const full = [...busy].filter(([, n]) => n >= perChannel).map(([c]) => c);
      // The lease outlives the timeout, so a delivery in flight is never claimed twice.
      const due = await o.channels.claimDue(o.owner, o.clock.now().toISOString(), o.timeoutMs * 2 + 30_000, room, full);
      if (due.length === 0) break;
      for (const d of due) {
        const p = run(d)
          .catch((e: unknown) => o.onError(e, `delivery ${d.id}`))
          .finally(() => {
            inFlight.delete(d.id);
            // A slot is free: more may be due. Never waited for by a sweep, so a slow channel holds up nobody.
            if (!closed) void schedule();
          });
        inFlight.set(d.id, { channel: d.channel, done: p });
        delivered++;
      }
      if (due.length < room) break;
    }
    return delivered;
  }

  async function sweepOnce(): Promise<{ enqueued: number; delivered: number }> {
    const enqueued = await readFeed();
    const delivered = await deliverDue();
    return { enqueued, delivered };
  }

  /** One sweep at a time; a wake during a sweep runs another right after. */
  function schedule(): Promise<unknown> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await sweepOnce();
        } catch (e) {
          if (!(isAppError(e) && e.code === 'STORAGE_ERROR' && closed)) o.onError(e, 'channel sweep');
        }
      } while (again && !closed);
    })().finally(() => (running = undefined));
    return running;
  }

  return {
    async start() {
      if ((await o.channels.feedPosition(FEED)) === undefined) await o.channels.startFeed(FEED, await o.store.auditSize());
      timer = setInterval(() => void schedule(), o.intervalMs);
      timer.unref();
      void schedule();
    },
    wake() {
      if (closed || wakeTimer) return;
      wakeTimer = setTimeout(() => {
        wakeTimer = undefined;
        void schedule();
      }, wakeDelay);
      wakeTimer.unref();
    },
    async sweep() {
      await running;
      const total = { enqueued: 0, delivered: 0 };
      for (;;) {
        const r = await sweepOnce();
        await Promise.allSettled([...inFlight.values()].map((f) => f.done));
        await running;
        total.enqueued += r.enqueued;
        total.delivered += r.delivered;
        if (r.enqueued === 0 && r.delivered === 0) return total;
      }
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (wakeTimer) clearTimeout(wakeTimer);
      await running;
      await Promise.allSettled([...inFlight.values()].map((f) => f.done));
    },
  };
}
