import type { StoredCheckpoint } from './audit-log.js';

/** Context for a push: what the witness saw last, and how to prove the new tree extends it. */
export interface WitnessPushContext {
  /** Size of the last checkpoint this witness accepted (0: none). */
  lastSize: number;
  /** RFC 9162 consistency proof from `from` to the checkpoint being pushed. */
  proof(from: number): Promise<Uint8Array[]>;
}

/**
 * A place outside the database that keeps the log's checkpoints, so that rewriting
 * the database (and re-signing) is detectable: a folder, a C2SP tlog-witness.
 */
export interface Witness {
  /** Stable name: its delivery cursor is keyed by it. */
  readonly name: string;
  /** True: every checkpoint is pushed, in order; false: only the latest (a tlog-witness). */
  readonly every: boolean;
  /** Pushes a checkpoint; resolves with cosignature lines (verified), if the witness gives any. Rejects on failure. */
  push(cp: StoredCheckpoint, origin: string, ctx: WitnessPushContext): Promise<string[]>;
}
