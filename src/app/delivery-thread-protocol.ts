import type { ChannelsConfig } from '../config/channels-schema.js';
import type { Channel, EventSink } from '../ports/channel.js';
import type { DirectoryHuman } from '../services/chat-review.js';

/** Messages between the dispatcher (main thread) and the delivery thread (delivery-thread-worker.ts). */

/** A method's arguments without its trailing AbortSignal (the thread makes its own). */
type Args<F> = F extends (...a: [...infer A, AbortSignal]) => unknown ? A : never;

/** The calls of a channel set that go over the network: Channel post / update / reply and EventSink send. */
export type SenderCall =
  | { op: 'post'; channel: string; args: Args<Channel['post']> }
  | { op: 'update'; channel: string; args: Args<Channel['update']> }
  | { op: 'reply'; channel: string; args: Args<Channel['reply']> }
  | { op: 'send'; channel: string; args: Args<EventSink['send']> };

export type ThreadRequest =
  /** A config's channels: the thread builds its senders (clients, keys) once, as generation `gen`. */
  | { type: 'senders'; gen: number; channels: ChannelsConfig; humans: readonly DirectoryHuman[]; nice: number }
  /** The generation a reload replaced: dropped once no call of it can still be running. */
  | { type: 'retire'; gen: number; afterMs: number }
  /**
   * Calls, those started in one event-loop turn together: a postMessage (and the wake-up of
   * the other thread) costs the sender tens of µs, as much as a call's own hand-off.
   */
  | { type: 'calls'; calls: Array<{ id: number; gen: number } & SenderCall> }
  /** The dispatcher gave up on a call (its timeout): the HTTP request is aborted. */
  | { type: 'abort'; id: number };

/** An error as the dispatcher records it (describeError reads code, cause.code, name, message). */
export interface WireSendError {
  name: string;
  message: string;
  code?: string;
  causeCode?: string;
}

export type CallResult = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireSendError };

export type ThreadReply =
  /** Results, those of the calls that ended in one turn of the thread together. */
  | { type: 'results'; results: CallResult[] }
  /** A generation's senders are built (or failed to be), and the thread's nice value then (undefined where it cannot be set). */
  | { type: 'ready'; gen: number; nice: number | undefined; error?: WireSendError }
  /** A log line of the thread's pino logger, written by the main thread's logger. */
  | { type: 'log'; line: string };

export function toWireError(e: unknown): WireSendError {
  const err = e as { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown } } | undefined;
  return {
    name: typeof err?.name === 'string' ? err.name : 'Error',
    message: typeof err?.message === 'string' ? err.message : String(e),
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    ...(typeof err?.cause?.code === 'string' ? { causeCode: err.cause.code } : {}),
  };
}

export function fromWireError(w: WireSendError): Error {
  const e = new Error(w.message);
  e.name = w.name;
  if (w.causeCode !== undefined) e.cause = { code: w.causeCode };
  return w.code !== undefined ? Object.assign(e, { code: w.code }) : e;
}
