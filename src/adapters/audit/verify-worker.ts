// The verifier's second thread. On a database, it checks the later half of the log whole
// (verify-split.ts). On a bundle, it reads the entries, checks their integrity (leaf
// hashes, sequence numbers, the tree), and hands each chunk's bytes over (transferred,
// not copied) to the main thread, which checks governance meanwhile.
import { parentPort, workerData } from 'node:worker_threads';
import type { SourceSpec } from './entry-source.js';
import { chunksOf, openReadOnly } from './entry-source.js';
import type { IntegrityOptions } from './verify-pass.js';
import { checkStoredNodes, createIntegrity, integrityResult } from './verify-pass.js';
import type { LaterHalf } from './verify-split.js';
import { checkLaterHalf } from './verify-split.js';

/** The later half of a log, checked whole here (verify-split.ts); its progress in flow[0]. */
export interface LaterHalfData {
  later: LaterHalf;
  flow: SharedArrayBuffer;
}

export interface VerifyWorkerData {
  spec: SourceSpec;
  from: number;
  to: number;
  integrity: IntegrityOptions;
  /** [produced, consumed] chunk counters, for back pressure. */
  flow: SharedArrayBuffer;
  /** Hand each chunk over to the main thread (for governance). */
  handOver: boolean;
}

/** Chunks the main thread may lag behind (bounds memory to a few MB). */
export const IN_FLIGHT = 8;

const port = parentPort!;

function checkLater(data: LaterHalfData): void {
  const flow = new Int32Array(data.flow);
  try {
    port.postMessage({ type: 'done', result: checkLaterHalf(data.later, (n) => Atomics.store(flow, 0, n)) });
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

/** Integrity of the whole range here, each chunk handed over to the main thread for governance (bundles). */
function checkWhole(data: VerifyWorkerData): void {
  const flow = new Int32Array(data.flow);
  const integrity = createIntegrity(data.integrity);
  try {
    for (const chunk of chunksOf(data.spec, data.from, data.to)) {
      integrity.addChunk(chunk);
      if (!data.handOver) continue;
      const b = chunk.blob;
      // Transfer the chunk's own memory when it has it alone; copy otherwise (small, pooled buffers).
      const own = b.byteOffset === 0 && b.buffer.byteLength === b.length && b.buffer instanceof ArrayBuffer;
      const blob: ArrayBuffer = own ? b.buffer : Uint8Array.prototype.slice.call(b).buffer;
      port.postMessage({ type: 'chunk', first: chunk.first, blob, seqs: chunk.seqs }, [blob]);
      const produced = Atomics.add(flow, 0, 1) + 1;
      while (produced - Atomics.load(flow, 1) > IN_FLIGHT) Atomics.wait(flow, 1, Atomics.load(flow, 1), 100);
    }
    let nodes = { findings: [] as ReturnType<typeof checkStoredNodes>['findings'], checked: 0 };
    if (data.integrity.checkNodes && data.spec.kind === 'db') {
      const db = openReadOnly(data.spec.path);
      try {
        nodes = checkStoredNodes(db, integrity);
      } finally {
        db.close();
      }
    }
    port.postMessage({ type: 'done', result: integrityResult(integrity, nodes) });
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
}

const data = workerData as VerifyWorkerData | LaterHalfData;
if ('later' in data) checkLater(data);
else checkWhole(data);
