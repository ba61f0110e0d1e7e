import { Worker } from 'node:worker_threads';
import { AppError } from '../../../domain/errors.js';
import type { WireJob, WorkerData, WorkerReply, WorkerRequest } from './sqlite-writer-protocol.js';
import { deserializeError } from './sqlite-writer-protocol.js';
import type { WriteArgs, WriteOpName, WriteResult } from './sqlite-write-ops.js';
import type { Writer } from './sqlite-writer.js';

/** Writes that make a slice worth sending before the event-loop turn ends (measured: 4-16 are alike). */
const EAGER_BATCH = 8;

interface Pending {
  job: WireJob;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * The store's writer, in a worker thread (sqlite-writer-worker.ts). Writes requested
 * in one event-loop turn go to the worker as one message and commit as one
 * transaction there; a promise resolves only when its write has committed. The HTTP
 * thread never waits on SQLite or on an fsync: on two cores, request handling and
 * durable writes run side by side.
 */
export function createWorkerWriter(workerUrl: URL, data: WorkerData): Writer {
  // The writer's allocations are short-lived (one batch); a small young generation keeps its memory down.
  const worker = new Worker(workerUrl, { workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
  const inFlight = new Map<number, Pending[]>();
  let queue: Pending[] = [];
  let nextId = 1;
  let scheduled = false;
  let closed = false;
  let broken: AppError | undefined;
  let onClosed: (() => void) | undefined;

  // The worker keeps the process alive only while writes are in flight (ref and unref
  // are native calls: made when that changes, not on every write).
  let refd: boolean | undefined;
  const updateRef = () => {
    const busy = inFlight.size > 0 || queue.length > 0;
    if (busy === refd) return;
    refd = busy;
    if (busy) worker.ref();
    else worker.unref();
  };
  updateRef();

  function failAll(e: AppError): void {
    broken ??= e;
    for (const batch of inFlight.values()) for (const p of batch) p.reject(e);
    inFlight.clear();
    for (const p of queue) p.reject(e);
    queue = [];
    onClosed?.();
  }

  worker.on('message', (m: WorkerReply) => {
    switch (m.type) {
      case 'result': {
        const batch = inFlight.get(m.id);
        inFlight.delete(m.id);
        const failed = m.errors && new Map(m.errors);
        batch?.forEach((p, i) => {
          const e = failed?.get(i);
          if (e) p.reject(deserializeError(e));
          else p.resolve(m.values[i]);
        });
        updateRef();
        break;
      }
      case 'closed':
        onClosed?.();
        break;
    }
  });
  worker.on('error', (e) => {
    const err = new AppError('STORAGE_ERROR', 'The store\'s writer stopped');
    err.cause = e;
    failAll(err);
  });
  worker.on('exit', () => failAll(new AppError('STORAGE_ERROR', 'The store\'s writer stopped')));

  function sendAlone(p: Pending): void {
    const id = nextId++;
    inFlight.set(id, [p]);
    try {
      worker.postMessage({ type: 'batch', id, jobs: [p.job] } satisfies WorkerRequest);
    } catch (e) {
      inFlight.delete(id);
      const err = new AppError('STORAGE_ERROR', 'A write could not be sent to the writer');
      err.cause = e;
      p.reject(err);
    }
  }

  function send(): void {
    scheduled = false;
    while (queue.length) {
      const batch = queue.splice(0, data.maxBatch);
      const id = nextId++;
      inFlight.set(id, batch);
      const msg: WorkerRequest = { type: 'batch', id, jobs: batch.map((p) => p.job) };
      try {
        worker.postMessage(msg);
      } catch {
        // Some write's arguments cannot be cloned: send the slice one by one, so that
        // only that write fails and the others (an execution's result...) still commit.
        inFlight.delete(id);
        for (const p of batch) sendAlone(p);
      }
    }
    updateRef();
  }

  return {
    submit<K extends WriteOpName>(op: K, args: WriteArgs<K>): Promise<WriteResult<K>> {
      if (broken) return Promise.reject(broken);
      if (closed) return Promise.reject(new AppError('STORAGE_ERROR', 'The store is closed'));
      return new Promise<WriteResult<K>>((resolve, reject) => {
        queue.push({ job: { op, args }, resolve: resolve as (v: unknown) => void, reject });
        updateRef();
        // Hand over a slice as soon as it is worth a transaction, so that the writer
        // commits it while this thread goes on parsing the requests that follow;
        // otherwise every request of a burst waits for the whole burst to be parsed.
        if (queue.length >= EAGER_BATCH) send();
        else if (!scheduled) {
          scheduled = true;
          setImmediate(send);
        }
      });
    },
    broken: () => broken?.message,
    drain() {
      if (closed) return Promise.resolve();
      closed = true;
      if (broken) return worker.terminate().then(() => undefined);
      send();
      return new Promise<void>((resolve) => {
        onClosed = resolve;
        worker.ref();
        worker.postMessage({ type: 'close' } satisfies WorkerRequest);
      }).then(() => worker.terminate().then(() => undefined));
    },
  };
}
