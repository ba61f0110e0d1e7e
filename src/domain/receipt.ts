import { leafHash } from './audit-entry.js';
import type { Finding } from './audit-finding.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { openCheckpoint } from './checkpoint.js';
import { equalBytes, verifyInclusion } from './merkle.js';
import type { VerifierKey } from './signed-note.js';
import { decodeBase64 } from './signed-note.js';

/**
 * An offline receipt for one action: its audit entries, each with an RFC 9162
 * inclusion proof against a signed checkpoint, and that checkpoint. Each entry also
 * comes as a C2SP tlog-proof (`c2sp.org/tlog-proof@v1`), whose `extra` line carries
 * the entry's canonical bytes.
 */
export interface Receipt {
  format: 'countersign-receipt/v1';
  actionId: string;
  /** The signed checkpoint (with witnesses' cosignatures, if any) the proofs lead to. */
  checkpoint: string | null;
  treeSize: number;
  entries: Array<{ seq: number; entry: string; leafHash: string; proof: string[]; tlogProof: string }>;
  /** Entries not covered by a signed checkpoint yet (ask again in a few seconds). */
  pending: number[];
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** C2SP tlog-proof v1 text. */
export function tlogProof(index: number, proof: readonly Uint8Array[], checkpointNote: string, extra?: Uint8Array): string {
  const lines = ['c2sp.org/tlog-proof@v1'];
  if (extra) lines.push(`extra ${b64(extra)}`);
  lines.push(`index ${index}`);
  for (const h of proof) lines.push(b64(h));
  return `${lines.join('\n')}\n\n${checkpointNote}`;
}

/** Parses a tlog-proof: index, proof hashes, the checkpoint note, the extra data. */
export function parseTlogProof(text: string): { index: number; proof: Buffer[]; checkpoint: string; extra?: Buffer } {
  const split = text.indexOf('\n\n');
  if (split < 0) throw new Error('a tlog-proof is a header, a blank line and a checkpoint');
  const lines = text.slice(0, split).split('\n');
  if (lines.shift() !== 'c2sp.org/tlog-proof@v1') throw new Error('not a c2sp.org/tlog-proof@v1');
  let extra: Buffer | undefined;
  if (lines[0]?.startsWith('extra ')) {
    extra = decodeBase64(lines.shift()!.slice(6));
    if (!extra) throw new Error('extra is not base64');
  }
  const m = /^index (0|[1-9][0-9]*)$/.exec(lines.shift() ?? '');
  if (!m) throw new Error('missing index line');
  const proof = lines.map((l) => {
    const h = decodeBase64(l);
    if (!h || h.length !== 32) throw new Error('a proof line is a base64 SHA-256 hash');
    return h;
  });
  return { index: Number(m[1]), proof, checkpoint: text.slice(split + 2), ...(extra ? { extra } : {}) };
}

/**
 * Verifies a receipt offline: the checkpoint is signed by a trusted key, and every
 * entry is included in it at its sequence number (structured proof and tlog-proof
 * alike). Returns the opened checkpoint and the problems found.
 */
export function verifyReceipt(r: Receipt, keys: readonly VerifierKey[]): { checkpoint?: SignedCheckpoint; findings: Finding[]; verified: number } {
  const findings: Finding[] = [];
  if (!r.checkpoint) return { findings: r.entries.length ? [{ kind: 'tampering', check: 'receipt-unsigned', message: 'the receipt has proofs but no checkpoint' }] : [], verified: 0 };
  let cp: SignedCheckpoint;
  try {
    cp = openCheckpoint(r.checkpoint, keys);
  } catch (e) {
    return { findings: [{ kind: 'tampering', check: 'checkpoint-signature', message: `the receipt's checkpoint is not signed by a trusted key: ${(e as Error).message}` }], verified: 0 };
  }
  let verified = 0;
  for (const x of r.entries) {
    const bytes = Buffer.from(x.entry, 'utf8');
    const leaf = leafHash(bytes);
    const proof = x.proof.map((p) => decodeBase64(p) ?? Buffer.alloc(0));
    let parsed: { seq?: unknown; actionId?: unknown };
    try {
      parsed = JSON.parse(x.entry) as typeof parsed;
    } catch {
      parsed = {};
    }
    const bad = (check: string, message: string) => findings.push({ kind: 'tampering', check, seq: x.seq, message });
    if (parsed.seq !== x.seq) bad('sequence-number', `entry ${x.seq} holds sequence number ${String(parsed.seq)}`);
    if (parsed.actionId !== r.actionId) bad('receipt-action', `entry ${x.seq} belongs to another action`);
    if (!equalBytes(leaf, decodeBase64(x.leafHash) ?? Buffer.alloc(0))) bad('leaf-hash', `entry ${x.seq} does not hash to its leaf hash`);
    if (!verifyInclusion(x.seq, cp.size, leaf, proof, cp.root)) {
      bad('inclusion', `entry ${x.seq} is not in the log signed at ${cp.size} entries: its inclusion proof fails`);
      continue;
    }
    try {
      const t = parseTlogProof(x.tlogProof);
      const same = t.index === x.seq && t.checkpoint === r.checkpoint && t.extra !== undefined && equalBytes(t.extra, bytes) && verifyInclusion(t.index, cp.size, leafHash(t.extra), t.proof, cp.root);
      if (!same) bad('tlog-proof', `the tlog-proof of entry ${x.seq} does not prove the same entry`);
      else verified++;
    } catch (e) {
      bad('tlog-proof', `the tlog-proof of entry ${x.seq} is malformed: ${(e as Error).message}`);
    }
  }
  return { checkpoint: cp, findings, verified };
}
