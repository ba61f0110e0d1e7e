import type { ActionRecord } from '../domain/action-record.js';
import type { ActionEvents } from './action-events.js';

/**
 * The long polls and MCP holds waiting on actions, indexed by action id: a committed
 * change wakes the waiters of its action with one lookup, and hands them the committed
 * record so that they need not read it again. Nothing is kept per waiter but a small
 * record: no timer (one sweep ends them at their deadlines), no listener of the events
 * (one for all). Many woken at once (a bulk approval) are resolved a slice at a time,
 * with the event loop free between slices (docs/reliability.md, many waiters).
 */
export interface ActionWaiters {
  /**
   * Registers a waiter on the action: call it BEFORE reading the action, so that a
   * change committed between that read and the wait is not missed.
   */
  register(id: string, deadline: number, signal?: AbortSignal): Waiter;
  /** Waiters registered now (for tests and metrics). */
  size(): number;
  /** Stops the sweep (tests); waiters still registered end as at their deadline. */
  close(): void;
}

export interface Waiter {
  /**
   * Resolves when the action changes: with the committed record when the change was
   * made in this process, undefined when it was seen otherwise (another replica,
   * another process on the store); undefined too at the deadline, on abort or cancel.
   */
  readonly woken: Promise<ActionRecord | undefined>;
  /** Unregisters now (the caller no longer waits); resolves `woken` with undefined. */
  cancel(): void;
}

/** Reads of the audit log: every state change appends an entry naming its action, whoever commits it. */
export interface ChangeFeed {
  size(): Promise<number>;
  read(start: number, end: number): Promise<readonly { actionId?: string | undefined }[]>;
}

export interface WaiterOptions {
  /** Ids of actions changed by other replicas (PostgreSQL's NOTIFY). */
  remoteChanges?: ((fn: (ids: string[]) => void) => () => void) | undefined;
  /** Changes committed by another process on the same store: read every `pollMs` while anyone waits. */
  feed?: ChangeFeed | undefined;
  pollMs?: number;
  /** Granularity of deadlines: one sweep every `tickMs` while anyone waits. */
  tickMs?: number;
  /** Waiters resolved per slice when many are woken at once. */
  slice?: number;
  onError?: (e: unknown) => void;
}

interface Entry {
  id: string;
  bucket: number;
  resolve: ((a: ActionRecord | undefined) => void) | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** At most this many audit entries read per poll: the feed catches up over the next polls. */
const FEED_CHUNK = 512;

export function createActionWaiters(events: ActionEvents, opts: WaiterOptions = {}): ActionWaiters {
  const tickMs = opts.tickMs ?? 100;
  const pollMs = opts.pollMs ?? 500;
  const slice = opts.slice ?? 64;
  const byId = new Map<string, Set<Entry>>();
  /** Deadline buckets: the tick number at which their waiters end. */
  const byBucket = new Map<number, Set<Entry>>();
  let count = 0;
  let subscribed = false;
  let timer: NodeJS.Timeout | undefined;
  let swept = Math.floor(Date.now() / tickMs);
  let lastPoll = 0;
  let polling = false;
  /** The next audit sequence number not yet read by the poll (undefined until the first poll). */
  let feedNext: number | undefined;
  /** Woken but not yet resolved (from `head` on): at most `slice` resolved per turn of the event loop. */
  let queue: { e: Entry; a: ActionRecord | undefined }[] = [];
  let head = 0;
  let spent = 0;
  let turnScheduled = false;

  function remove(e: Entry): boolean {
    if (!e.resolve) return false;
    const set = byId.get(e.id);
    if (set?.delete(e) && set.size === 0) byId.delete(e.id);
    const b = byBucket.get(e.bucket);
    if (b?.delete(e) && b.size === 0) byBucket.delete(e.bucket);
    if (e.onAbort) e.signal?.removeEventListener('abort', e.onAbort);
    count--;
    if (count === 0) stopTimer();
    return true;
  }

  function finish(e: Entry, a: ActionRecord | undefined): void {
    const resolve = e.resolve;
    if (!remove(e) || !resolve) return;
    e.resolve = undefined;
    e.onAbort = undefined;
    e.signal = undefined;
    resolve(a);
  }

  function pump(): void {
    while (head < queue.length && spent < slice) {
      const { e, a } = queue[head++]!;
      finish(e, a);
      spent++;
    }
    if (head === queue.length) {
      queue = [];
      head = 0;
    }
    if (spent > 0 && !turnScheduled) {
      turnScheduled = true;
      setImmediate(() => {
        turnScheduled = false;
        spent = 0;
        pump();
      });
    }
  }

  function wake(id: string, a: ActionRecord | undefined): void {
    const set = byId.get(id);
    if (!set) return;
    for (const e of set) queue.push({ e, a });
    pump();
  }

  async function poll(): Promise<void> {
    const feed = opts.feed;
    if (!feed || polling) return;
    polling = true;
    try {
      const size = await feed.size();
      const start = feedNext === undefined || feedNext > size ? size : feedNext;
      const end = Math.min(size, start + FEED_CHUNK);
      feedNext = end;
      if (end > start) {
        for (const en of await feed.read(start, end)) if (en.actionId !== undefined) wake(en.actionId, undefined);
      }
    } catch (e) {
      opts.onError?.(e);
    } finally {
      polling = false;
    }
  }

  function tick(): void {
    const now = Date.now();
    const current = Math.floor(now / tickMs);
    for (let b = swept + 1; b <= current; b++) {
      const set = byBucket.get(b);
      if (set) for (const e of set) queue.push({ e, a: undefined });
    }
    pump();
    swept = current;
    if (opts.feed && now - lastPoll >= pollMs) {
      lastPoll = now;
      void poll();
    }
  }

  function startTimer(): void {
    if (timer) return;
    swept = Math.floor(Date.now() / tickMs);
    // The baseline of the feed: changes from here on.
    lastPoll = Date.now();
    void poll();
    timer = setInterval(tick, tickMs);
    timer.unref();
  }

  function stopTimer(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
    // Nobody waits: what changes from now on matters to nobody until the next waiter.
    feedNext = undefined;
  }

  // Once, at the first wait, for the life of the process.
  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    events.subscribe((ev) => wake(ev.action.id, ev.action));
    opts.remoteChanges?.((ids) => {
      for (const id of ids) wake(id, undefined);
    });
  }

  return {
    register(id, deadline, signal) {
      subscribe();
      let resolve!: (a: ActionRecord | undefined) => void;
      const woken = new Promise<ActionRecord | undefined>((r) => (resolve = r));
      // Past deadlines end at the next sweep: a waiter never ends before its caller read the action.
      const bucket = Math.max(Math.ceil(deadline / tickMs), Math.floor(Date.now() / tickMs) + 1);
      const e: Entry = { id, bucket, resolve, signal, onAbort: undefined };
      if (signal?.aborted) {
        resolve(undefined);
        return { woken, cancel: () => undefined };
      }
      let set = byId.get(id);
      if (!set) byId.set(id, (set = new Set()));
      set.add(e);
      let b = byBucket.get(bucket);
      if (!b) byBucket.set(bucket, (b = new Set()));
      b.add(e);
      if (signal) {
        e.onAbort = () => finish(e, undefined);
        signal.addEventListener('abort', e.onAbort, { once: true });
      }
      count++;
      startTimer();
      return { woken, cancel: () => finish(e, undefined) };
    },
    size: () => count,
    close: () => {
      stopTimer();
    },
  };
}
