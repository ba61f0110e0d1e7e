import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeAuditEntry } from './audit-entry.js';
import { signCheckpoint } from './checkpoint.js';
import { inclusionProof, nodesOfLeaves, rootAt } from './merkle.js';
import type { Receipt } from './receipt.js';
import { parseTlogProof, tlogProof, verifyReceipt } from './receipt.js';
import { signerFromSeed } from './signed-note.js';

const signer = signerFromSeed('audit.example.com/log', randomBytes(32));
const entries = Array.from({ length: 11 }, (_, i) => encodeAuditEntry(i, { type: 'action.reviewed', ts: new Date(i).toISOString(), actionId: i % 3 ? 'act_other000000' : 'act_mine0000000', data: { i } }));
const tree = nodesOfLeaves(entries.map((e) => e.leafHash));
const cp = signCheckpoint({ origin: signer.name, size: 11, root: rootAt(tree, 11) }, signer);

function receipt(): Receipt {
  const mine = entries.filter((e) => e.actionId === 'act_mine0000000');
  return {
    format: 'countersign-receipt/v1',
    actionId: 'act_mine0000000',
    checkpoint: cp.note,
    treeSize: 11,
    entries: mine.map((e) => {
      const proof = inclusionProof(tree, e.seq, 11);
      return { seq: e.seq, entry: Buffer.from(e.bytes).toString('utf8'), leafHash: Buffer.from(e.leafHash).toString('base64'), proof: proof.map((h) => Buffer.from(h).toString('base64')), tlogProof: tlogProof(e.seq, proof, cp.note, e.bytes) };
    }),
    pending: [],
  };
}

describe('receipts', () => {
  it('writes C2SP tlog-proofs that parse back', () => {
    const p = tlogProof(3, inclusionProof(tree, 3, 11), cp.note, entries[3]!.bytes);
    expect(p.startsWith('c2sp.org/tlog-proof@v1\nextra ')).toBe(true);
    const back = parseTlogProof(p);
    expect(back.index).toBe(3);
    expect(back.checkpoint).toBe(cp.note);
    expect(back.extra!.equals(Buffer.from(entries[3]!.bytes))).toBe(true);
    expect(() => parseTlogProof(p.replace('index 3', 'index x'))).toThrow();
  });

  it('verifies offline against the log key, and names what was changed', () => {
    expect(verifyReceipt(receipt(), [signer.verifier])).toMatchObject({ findings: [], verified: 4 });
    const other = signerFromSeed(signer.name, randomBytes(32));
    expect(verifyReceipt(receipt(), [other.verifier]).findings[0]).toMatchObject({ check: 'checkpoint-signature' });
    const edited = receipt();
    edited.entries[1]!.entry = edited.entries[1]!.entry.replace('"i":3', '"i":4');
    expect(verifyReceipt(edited, [signer.verifier]).findings.map((f) => [f.check, f.seq])).toContainEqual(['leaf-hash', 3]);
    const moved = receipt();
    moved.entries[1]!.seq = 4;
    expect(verifyReceipt(moved, [signer.verifier]).findings.map((f) => f.check)).toEqual(expect.arrayContaining(['sequence-number', 'inclusion']));
  });
});
