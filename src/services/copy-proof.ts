import { leafHash } from '../domain/audit-entry.js';
import { equalBytes, RightEdge } from '../domain/merkle.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Store } from '../ports/store.js';

type LogStore = Store & AuditLog;

export interface CopyProof {
  ok: boolean;
  size: number;
  /** Hex root of the whole log, as computed from the target's entries. */
  root: string;
  checkpoints: number;
  /** What disagrees, if anything (empty when ok). */
  problems: string[];
}

const CHUNK = 5000;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/**
 * Proves a copy of the audit log: the target's entries are read back, their leaf
 * hashes recomputed from their bytes and their sequence numbers checked contiguous;
 * the RFC 9162 root built from them must equal the target's stored tree root and the
 * source's, at the same size; and every checkpoint must be there, with the root the
 * tree has at its size. (Signatures are checked by `countersign audit verify`, which
 * needs the operator's verifier key.)
 */
export async function proveCopy(source: LogStore, target: LogStore, progress: (done: number, total: number) => void = () => undefined): Promise<CopyProof> {
  const problems: string[] = [];
  const size = await target.treeSize();
  const sourceSize = await source.treeSize();
  if (size !== sourceSize) problems.push(`the target holds ${size} entries, the source ${sourceSize}`);
  const edge = new RightEdge();
  for (let from = 0; from < size; from += CHUNK) {
    const entries = await target.readAudit(from, Math.min(size, from + CHUNK));
    for (const e of entries) {
      if (e.seq !== edge.size) {
        problems.push(`entry ${edge.size} is missing from the target`);
        return { ok: false, size, root: '', checkpoints: 0, problems };
      }
      if (!equalBytes(leafHash(e.bytes), e.leafHash)) problems.push(`entry ${e.seq}: its stored leaf hash is not the hash of its bytes`);
      edge.append(leafHash(e.bytes));
    }
    progress(edge.size, size);
  }
  const root = edge.root();
  if (size > 0) {
    if (!equalBytes(root, await target.rootAt(size))) problems.push(`the target's stored tree has another root than its entries at size ${size}`);
    if (size === sourceSize && !equalBytes(root, await source.rootAt(size))) problems.push(`the root at size ${size} differs from the source's`);
  }
  const [mine, theirs] = [await target.listCheckpoints(0, 1_000_000), await source.listCheckpoints(0, 1_000_000)];
  if (mine.length !== theirs.length) problems.push(`the target holds ${mine.length} checkpoints, the source ${theirs.length}`);
  for (const cp of mine) {
    if (cp.size > size || !equalBytes(cp.root, await target.rootAt(cp.size))) problems.push(`the checkpoint of size ${cp.size} does not match the tree`);
    const twin = theirs.find((x) => x.size === cp.size);
    if (!twin || twin.note !== cp.note || twin.cosignatures.join('') !== cp.cosignatures.join('')) problems.push(`the checkpoint of size ${cp.size} differs from the source's`);
  }
  return { ok: problems.length === 0, size, root: hex(root), checkpoints: mine.length, problems };
}
