/** A signed checkpoint as kept by the store, with the witnesses' cosignatures it got. */
export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  /** The signed note (C2SP tlog-checkpoint), exactly as signed. */
  note: string;
  signedAt: string;
  /** Cosignature lines (tlog-cosignature) from witnesses, verified before they were stored. */
  cosignatures: string[];
}

/**
 * The verifiable side of the audit log: the Merkle tree over the entries (RFC 9162),
 * its proofs, the signed checkpoints, and the cursors of outside deliveries
 * (witnesses, SIEM sinks). Implemented by the store that holds the entries; the
 * tree is written in the same transaction as the entries it covers.
 */
export interface AuditLog {
  /** Number of entries (= tree size). */
  treeSize(): Promise<number>;
  /** Root of the tree over the first `size` entries (size <= treeSize()). */
  rootAt(size: number): Promise<Uint8Array>;
  /** RFC 9162 inclusion proof of entry `index` in the tree of `size` entries. */
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  /** RFC 9162 consistency proof from `from` (>= 1) to `to` entries. */
  consistencyProof(from: number, to: number): Promise<Uint8Array[]>;

  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** Checkpoints with size >= fromSize, smallest first. */
  listCheckpoints(fromSize: number, limit: number): Promise<StoredCheckpoint[]>;
  /** The smallest checkpoint with size >= `size` (the first that covers entry size-1). */
  checkpointCovering(size: number): Promise<StoredCheckpoint | undefined>;
  /**
   * Stores a signed checkpoint if the latest stored one has size `previousSize` (-1:
   * none): compare-and-swap, so that several processes store one checkpoint per size
   * and never one that skips another's. False (nothing written) otherwise.
   */
  addCheckpoint(cp: { size: number; root: Uint8Array; note: string; signedAt: string }, previousSize: number): Promise<boolean>;
  /** Keeps a witness's cosignature of the checkpoint of `size` (the first one per witness). */
  addCosignature(size: number, witness: string, line: string, at: string): Promise<void>;

  /**
   * Takes or renews the lease on a delivery cursor (created at position 0): the current
   * position when `owner` holds the lease until `untilMs`, undefined when another owner
   * holds it past `nowMs`.
   */
  claimCursor(name: string, owner: string, nowMs: number, untilMs: number): Promise<number | undefined>;
  /** Moves a cursor from `from` to `to` if it is there and `owner` holds its lease. */
  advanceCursor(name: string, owner: string, from: number, to: number): Promise<boolean>;
  /** The cursor's position, if it exists. */
  cursor(name: string): Promise<number | undefined>;
}
