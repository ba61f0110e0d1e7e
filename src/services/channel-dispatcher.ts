import { isAppError } from '../domain/errors.js';
import type { ChannelStore, Delivery, DeliveryOutcome, FinishedDelivery } from '../ports/channel-store.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';
import { backoffMs } from '../domain/notify-feed.js';
import { crashPoint } from '../testing/crash-point.js';
import { abortable } from './abortable.js';
import { FEED, planFeed } from './channel-feed.js';
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
 * - Work happens in rounds, at most one per `minRoundGapMs`: each round records the
 *   outcomes of the deliveries that finished, moves the feed and claims the due ones, in
 *   a few small transactions (at most ROUND_SLICE items each, one after the other), so
 *   notifications cost the store a few commits per round, not one per delivery, and never
 *   hold its one writer long (decisions commit in between, or in the same group commit).
 *   Claims are leases: a delivery runs in one process at a time.
 * - Deliveries run concurrently, one started per event-loop turn (the gate's requests are
 *   served in between), each with a timeout; at most half the slots go to one channel, so
 *   a failing or hanging channel never holds up the others. Failures are retried with
 *   exponential backoff and jitter, and every attempt is recorded.
 * - In-process events only wake the dispatcher early; a timer sweeps anyway, so a change
 *   committed by another process is delivered too.
 */
export interface ChannelDispatcher {
  /** Starts the feed (at the log's end the first time), then sweeps on a timer. */
  start(): Promise<void>;
  /** Something committed: sweep soon. Never blocks, never throws. */
  wake(): void;
  /** Runs rounds until nothing more is enqueued or due, waiting for every delivery (tests, tools). */
  sweep(): Promise<{ enqueued: number; delivered: number }>;
  /** Stops the timer and waits for deliveries in flight. */
  close(): Promise<void>;
  /**
   * A config reload changed the channels or delivery settings: the next round plans,
   * claims and sends with these. Deliveries already running finish with what they
   * started with; a channel no longer listed gets nothing more (see run()).
   */
  reconfigure(next: DispatcherSettings): void;
}

/** What a config reload may change. */
export type DispatcherSettings = Pick<DispatcherOptions, 'chats' | 'sinks' | 'consoleLinks' | 'maxAttempts' | 'initialBackoffMs' | 'maxBackoffMs' | 'timeoutMs' | 'concurrency' | 'intervalMs' | 'retentionMs'>;

export interface DispatcherOptions {
  store: Pick<Store, 'readAudit' | 'auditSize' | 'getAction'>;
  channels: ChannelStore;
  chats: readonly Channel[];
  sinks: readonly EventSink[];
  clock: Clock;
  /** Unique per process: the lease owner. */
  owner: string;
  publicUrl(): string;
  /** Messages link to the web console's detail page. */
  consoleLinks?: boolean;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  concurrency: number;
  intervalMs: number;
  /** Deliveries this process holds (claimed, queued or running) at most. Default 16 x concurrency. */
  prefetch?: number;
  /** Finished deliveries older than this are deleted (at most once a minute, in small batches). */
  retentionMs?: number;
  /** Least time between two rounds: each round costs one commit, so bursts share rounds. Default 100. */
  minRoundGapMs?: number;
  /** Makes an error safe to record (no secrets). */
  describe(e: unknown): string;
  onError(e: unknown, context: string): void;
  random?: () => number;
}

/** Items (outcomes, claims) per transaction of a round. */
const ROUND_SLICE = 32;
/** Audit entries per feed slice, and slices per round at most (then the next round goes on). */
const FEED_SLICE = 64;
const FEED_SLICES = 8;

export function createChannelDispatcher(first: DispatcherOptions): ChannelDispatcher {
  // Replaced as a whole by reconfigure(): every read below sees one config or the next.
  let o = first;
  const random = o.random ?? Math.random;
  const minGap = o.minRoundGapMs ?? 100;
  let chats = new Map(o.chats.map((c) => [c.name, c]));
  let sinks = new Map(o.sinks.map((s) => [s.name, s]));
  const inFlight = new Map<number, { channel: string; done: Promise<void> }>();
  /** Claimed (leased) and not started yet, with when the lease runs out. */
  const queue: Array<Delivery & { leaseUntil: number }> = [];
  let prefetch = Math.max(o.concurrency, o.prefetch ?? o.concurrency * 16);
  let leaseMs = o.timeoutMs * 4 + 60_000;
  let lastPrune = 0;

  /** Keeps the delivery records bounded: one small batch a minute, never in the way of a round. */
  async function prune(): Promise<void> {
    if (o.retentionMs === undefined || Date.now() - lastPrune < 60_000) return;
    lastPrune = Date.now();
    await o.channels.prune(new Date(o.clock.now().getTime() - o.retentionMs).toISOString(), 500);
  }
  /** Outcomes not yet written: they go with the next round's one transaction. */
  let finished: FinishedDelivery[] = [];
  let timer: NodeJS.Timeout | undefined;
  let roundTimer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let again = false;
  let closed = false;
  let lastRound = 0;

  function outcomeFor(d: Delivery, error: unknown): DeliveryOutcome {
    const attempt = d.attempts + 1;
    const message = o.describe(error);
    if (attempt >= o.maxAttempts) return { type: 'dead', error: message };
    const at = new Date(o.clock.now().getTime() + backoffMs(attempt, o.initialBackoffMs, o.maxBackoffMs, random())).toISOString();
    return { type: 'retry', at, error: message };
  }

  /**
   * Gives a call `timeoutMs`: its signal aborts then (with the TimeoutError of
   * AbortSignal.timeout), and the wait ends then even if the call ignored it. The timer is
   * cleared when the call ends: AbortSignal.timeout's cannot be, so each delivery would
   * leave a timer and a tracked signal alive for the whole timeout, on the gate's thread.
   */
  async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), o.timeoutMs);
    timer.unref();
    try {
      return await abortable(work(controller.signal), controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Runs one delivery; its outcome is queued for the next round. Never throws. */
  async function run(d: Delivery): Promise<FinishedDelivery> {
    const started = Date.now();
    let outcome: DeliveryOutcome = { type: 'done' };
    let detail: string;
    let ok = true;
    let messages: FinishedDelivery['messages'];
    try {
      crashPoint('delivery.sending');
      // A channel a reload removed (or one this config never had): cancelled, never retried against nothing.
      if (!(d.kind === 'event' ? sinks : chats).has(d.channel)) {
        const error = `cancelled: channel ${d.channel} is not configured (removed by a config reload?)`;
        return { id: d.id, owner: o.owner, outcome: { type: 'dead', error }, attempt: { attempt: d.attempts + 1, ok: false, detail: error, durationMs: 0, at: o.clock.now().toISOString() } };
      }
      if (d.kind === 'event') {
        const sink = sinks.get(d.channel)!;
        detail = await withTimeout((signal) => sink.send({ id: d.eventKey!, payload: d.payload ?? '{}' }, signal));
      } else {
        const chat = chats.get(d.channel)!;
        const action = await o.store.getAction(d.actionId);
        if (!action) throw new Error(`no action ${d.actionId}`);
        const stored = await o.channels.messages(d.actionId, d.channel);
        const r = await withTimeout((signal) => syncChat(chat, action, stored, o.publicUrl(), signal, o.consoleLinks));
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
    return { id: d.id, owner: o.owner, outcome, attempt, ...(messages ? { messages } : {}) };
  }

  /**
   * Starts queued deliveries within the concurrency, at most half of it per channel (a
   * hanging channel cannot take every slot). Events start together: each only hands its
   * fixed body to the channel (the delivery thread gets those of one turn in one message).
   * A sync first reads and renders the action on this thread, so one starts per
   * event-loop turn: requests to the gate that arrive meanwhile are served in between.
   */
  let pumping = false;
  function pump(): void {
    if (pumping || closed) return;
    pumping = true;
    setImmediate(() => {
      pumping = false;
      const perChannel = Math.max(1, Math.ceil(o.concurrency / 2));
      const running = new Map<string, number>();
      for (const c of inFlight.values()) running.set(c.channel, (running.get(c.channel) ?? 0) + 1);
      // A lease that could run out before the call ends is left to run out: another round claims it again.
      for (let j = queue.length - 1; j >= 0; j--) if (queue[j]!.leaseUntil - o.timeoutMs * 2 < Date.now()) queue.splice(j, 1);
      let syncs = 0;
      while (inFlight.size < o.concurrency) {
        const i = queue.findIndex((d) => (running.get(d.channel) ?? 0) < perChannel);
        if (i < 0) return;
        if (queue[i]!.kind === 'sync' && syncs++ > 0) {
          pump();
          return;
        }
        const d = queue.splice(i, 1)[0]!;
        running.set(d.channel, (running.get(d.channel) ?? 0) + 1);
        const p = run(d).then((f) => {
          finished.push(f);
          inFlight.delete(d.id);
          pump();
          // Recorded with the next round, which also claims more.
          wake();
        });
        inFlight.set(d.id, { channel: d.channel, done: p });
      }
    });
  }

  /** Claimed and not finished, per channel. */
  function holdingPerChannel(): Map<string, number> {
    const holding = new Map<string, number>();
    for (const d of queue) holding.set(d.channel, (holding.get(d.channel) ?? 0) + 1);
    for (const c of inFlight.values()) holding.set(c.channel, (holding.get(c.channel) ?? 0) + 1);
    return holding;
  }

  /**
   * One round: record what finished, move the feed and claim what is due (up to
   * `prefetch` held by this process, at most half of it per channel); queue the claimed
   * deliveries and start them within the concurrency. The round's writes go to the store
   * in slices of at most ROUND_SLICE items, one transaction each, one after the other: the
   * store has one writer, and a decision committed while a round writes waits for the
   * transaction before it, so a round never holds the writer for long. Each slice keeps
   * what one transaction promised: a feed slice is enqueued and its cursor moved together
   * (compare-and-swap), an outcome is recorded with its attempt, a claim takes its lease.
   * The slices usually share their commit with the gate's writes (group commit).
   */
  async function round(): Promise<{ enqueued: number; started: number; more: boolean }> {
    lastRound = Date.now();
    const now = () => o.clock.now().toISOString();
    const done = finished;
    finished = [];
    let recorded = 0;
    try {
      while (recorded < done.length) {
        await o.channels.cycle({ now: now(), finished: done.slice(recorded, recorded + ROUND_SLICE) });
        recorded += ROUND_SLICE;
      }
    } catch (e) {
      // Not recorded: keep the outcomes for the next round (their leases still hold).
      finished = [...done.slice(recorded), ...finished];
      throw e;
    }
    let enqueued = 0;
    let more = false;
    for (let slice = 0; slice < FEED_SLICES; slice++) {
      const feed = await planFeed({ store: o.store, channels: o.channels, chats: [...chats.keys()], sinks: [...sinks.values()], publicUrl: o.publicUrl(), consoleLinks: o.consoleLinks, batch: FEED_SLICE });
      if (!feed) break;
      const r = await o.channels.cycle({ now: now(), feed });
      if (r.advanced) enqueued += feed.deliveries.length;
      // A full slice (more entries may follow), or a lost race on the feed (another process enqueued those entries).
      more = feed.full || r.advanced === false;
      if (!more) break;
    }
    let started = 0;
    for (;;) {
      const room = closed ? 0 : prefetch - queue.length - inFlight.size;
      if (room <= 0) break;
      const limit = Math.min(room, ROUND_SLICE);
      const skip = [...holdingPerChannel()].filter(([, n]) => n >= prefetch / 2).map(([c]) => c);
      // The lease covers a wait in the queue and the call's timeout; deliveries whose lease
      // would run out before their call ends are dropped from the queue, never started.
      const r = await o.channels.cycle({ now: now(), claim: { owner: o.owner, leaseMs, limit, skip } });
      const leaseUntil = Date.now() + leaseMs;
      for (const d of r.claimed) queue.push({ ...d, leaseUntil });
      started += r.claimed.length;
      pump();
      if (r.claimed.length < limit) break;
      // Every slot taken: more may be due.
      if (limit === room) more = true;
    }
    return { enqueued, started, more };
  }

  /** One round at a time, at least minGap apart (rounds are what cost commits); a wake during a round runs another after it. */
  function schedule(): Promise<unknown> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          if ((await round()).more) again = true;
          await prune();
        } catch (e) {
          if (!(isAppError(e) && e.code === 'STORAGE_ERROR' && closed)) o.onError(e, 'channel round');
        }
        if (again && !closed) await new Promise((r) => setTimeout(r, Math.max(0, lastRound + minGap - Date.now())));
      } while (again && !closed);
    })().finally(() => (running = undefined));
    return running;
  }

  function wake(): void {
    if (closed || roundTimer) return;
    roundTimer = setTimeout(
      () => {
        roundTimer = undefined;
        void schedule();
      },
      Math.max(0, lastRound + minGap - Date.now()),
    );
    roundTimer.unref();
  }

  return {
    async start() {
      if ((await o.channels.feedPosition(FEED)) === undefined) await o.channels.startFeed(FEED, await o.store.auditSize());
      timer = setInterval(() => void schedule(), o.intervalMs);
      timer.unref();
      void schedule();
    },
    wake,
    async sweep() {
      await running;
      const total = { enqueued: 0, delivered: 0 };
      for (;;) {
        const r = await round();
        while (inFlight.size || queue.length) {
          await Promise.allSettled([...inFlight.values()].map((f) => f.done));
          if (!inFlight.size && queue.length) await new Promise((r) => setImmediate(r));
        }
        await running;
        total.enqueued += r.enqueued;
        total.delivered += r.started;
        if (r.enqueued === 0 && r.started === 0 && finished.length === 0 && !r.more) return total;
      }
    },
    reconfigure(next) {
      o = { ...o, ...next };
      chats = new Map(o.chats.map((c) => [c.name, c]));
      sinks = new Map(o.sinks.map((s) => [s.name, s]));
      prefetch = Math.max(o.concurrency, o.prefetch ?? o.concurrency * 16);
      leaseMs = o.timeoutMs * 4 + 60_000;
      if (timer && !closed) {
        clearInterval(timer);
        timer = setInterval(() => void schedule(), o.intervalMs);
        timer.unref();
      }
      wake();
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      if (roundTimer) clearTimeout(roundTimer);
      await running;
      // Queued deliveries are left to their leases; those running are waited for.
      queue.length = 0;
      await Promise.allSettled([...inFlight.values()].map((f) => f.done));
      // Record what finished meanwhile (claims nothing more).
      if (finished.length) await round().catch((e: unknown) => o.onError(e, 'channel round'));
    },
  };
}
