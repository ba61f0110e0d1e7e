// The delivery thread: makes the channel dispatcher's outbound calls (Slack, Teams,
// webhooks), so that their CPU (SDKs, HTTP, signatures) is not spent on the thread that
// serves the gate, and, on Linux, at a lower priority (a nice value is per thread there).
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import type { ChannelSenders } from './channels-senders.js';
import { buildSenders } from './channels-senders.js';
import type { CallResult, SenderCall, ThreadReply, ThreadRequest } from './delivery-thread-protocol.js';
import { toWireError } from './delivery-thread-protocol.js';

const port = parentPort!;
const reply = (m: ThreadReply) => port.postMessage(m);
// Lines go to the main thread's logger (its destination and redaction).
const logger = pino({ level: (workerData as { level: string }).level, base: null, timestamp: false }, { write: (line: string) => reply({ type: 'log', line }) });

/** This thread's id for the scheduler (Linux: /proc/thread-self is <pid>/task/<tid>), or undefined. */
function ownTid(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : undefined;
  } catch {
    return undefined;
  }
}
const tid = ownTid();
/** The nice value inherited from the process: the increment applies to it. */
const base = tid === undefined ? undefined : getPriority(tid);

/** Raises this thread's nice value to base + increment (at most 19); a lower one needs privileges, so it may stay higher. */
function renice(increment: number): number | undefined {
  if (tid === undefined || base === undefined) return undefined;
  try {
    setPriority(tid, Math.min(19, base + increment));
  } catch {
    // EACCES: lowering a nice value again needs CAP_SYS_NICE; the thread keeps its current one.
  }
  return getPriority(tid);
}

/** Results not sent yet: those of the calls that end in one turn go back in one message. */
let results: CallResult[] = [];
function result(r: CallResult): void {
  if (results.push(r) > 1) return;
  setImmediate(() => {
    const out = results;
    results = [];
    reply({ type: 'results', results: out });
  });
}

/** Each config's senders by generation; a call waits for its generation's build. */
const generations = new Map<number, Promise<ChannelSenders>>();
const running = new Map<number, AbortController>();

function invoke(s: ChannelSenders, m: SenderCall, signal: AbortSignal): Promise<unknown> {
  if (m.op === 'send') {
    const sink = s.sinks.find((x) => x.name === m.channel);
    if (!sink) throw new Error(`no sink ${m.channel} in the delivery thread`);
    return sink.send(...m.args, signal);
  }
  const chat = s.chats.find((x) => x.name === m.channel);
  if (!chat) throw new Error(`no channel ${m.channel} in the delivery thread`);
  switch (m.op) {
    case 'post':
      return chat.post(...m.args, signal);
    case 'update':
      return chat.update(...m.args, signal);
    case 'reply':
      return chat.reply(...m.args, signal);
  }
}

async function call(m: Extract<ThreadRequest, { type: 'calls' }>['calls'][number]): Promise<void> {
  const controller = new AbortController();
  running.set(m.id, controller);
  try {
    const senders = generations.get(m.gen);
    if (!senders) throw new Error('the channel set of this delivery was replaced by a config reload');
    const ready = await senders;
    // Timed out while the senders were built: the call is not started at all.
    if (controller.signal.aborted) throw controller.signal.reason;
    const value = await invoke(ready, m, controller.signal);
    result({ id: m.id, ok: true, value });
  } catch (e) {
    result({ id: m.id, ok: false, error: toWireError(e) });
  } finally {
    running.delete(m.id);
  }
}

port.on('message', (m: ThreadRequest) => {
  switch (m.type) {
    case 'senders': {
      const built = buildSenders(m.channels, m.humans, logger);
      generations.set(m.gen, built);
      // Lowered once built: loading the SDKs at a low priority on busy cores would make the first calls time out.
      // A failed build fails each call of the generation (recorded, retried), never the thread.
      built.then(
        () => reply({ type: 'ready', gen: m.gen, nice: renice(m.nice) }),
        (e: unknown) => reply({ type: 'ready', gen: m.gen, nice: renice(m.nice), error: toWireError(e) }),
      );
      break;
    }
    case 'retire':
      // Every call of a generation ends within its delivery timeout: then nothing can use it.
      setTimeout(() => generations.delete(m.gen), m.afterMs).unref();
      break;
    case 'calls':
      for (const c of m.calls) void call(c);
      break;
    case 'abort':
      running.get(m.id)?.abort(new Error('the delivery timed out'));
      break;
  }
});
