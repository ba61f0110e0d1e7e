import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeAuditEntry } from '../../domain/audit-entry.js';
import { signCheckpoint } from '../../domain/checkpoint.js';
import { inclusionProof, nodesOfLeaves, rootFromInclusionProof, rootOfLeaves } from '../../domain/merkle.js';
import { signerFromSeed } from '../../domain/signed-note.js';
import { rootFromInclusion, verifyReceipt } from './receipt-verify.js';

// The browser's checks (WebCrypto) against the domain's own (node:crypto): same answers.
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const signer = signerFromSeed('example.com/log', randomBytes(32));
const other = signerFromSeed('example.com/log', randomBytes(32));

function log(n: number, actionOf: (seq: number) => string | undefined) {
  const entries = Array.from({ length: n }, (_, seq) => {
    const actionId = actionOf(seq);
    return encodeAuditEntry(seq, { type: 'action.submitted', ts: '2026-01-01T00:00:00.000Z', ...(actionId ? { actionId } : {}), data: { seq } });
  });
  const leaves = entries.map((e) => e.leafHash);
  const nodes = nodesOfLeaves(leaves);
  const cp = signCheckpoint({ origin: 'example.com/log', size: n, root: rootOfLeaves(leaves) }, signer);
  return { entries, leaves, nodes, cp };
}

function receiptFor(l: ReturnType<typeof log>, actionId: string, seqs: number[]) {
  return {
    actionId,
    checkpoint: l.cp.note,
    treeSize: l.cp.size,
    entries: seqs.map((seq) => ({ seq, entry: Buffer.from(l.entries[seq]!.bytes).toString('utf8'), leafHash: b64(l.entries[seq]!.leafHash), proof: inclusionProof(l.nodes, seq, l.cp.size).map(b64) })),
    pending: [],
  };
}

describe('the browser receipt check', () => {
  it('computes the same root as the domain for every index of trees of 1 to 33 leaves', async () => {
    for (let n = 1; n <= 33; n++) {
      const l = log(n, () => undefined);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(l.nodes, i, n);
        const ours = await rootFromInclusion(i, n, l.leaves[i]!, proof);
        expect(b64(ours!)).toBe(b64(rootFromInclusionProof(i, n, l.leaves[i]!, proof)!));
      }
    }
  });

  it('verifies a receipt whose entries are in the signed tree', async () => {
    const l = log(21, (seq) => (seq === 3 || seq === 17 ? 'act_receipt0001' : undefined));
    const r = await verifyReceipt(receiptFor(l, 'act_receipt0001', [3, 17]), [signer.verifier.text]);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.text)).toEqual([
      'Checkpoint of example.com/log at tree size 21 is signed by the log\'s key.',
      'Entry 3 is in the log: its inclusion proof leads to the signed root.',
      'Entry 17 is in the log: its inclusion proof leads to the signed root.',
    ]);
  });

  it('fails a tampered proof, entry, leaf hash, tree size or signature, and names what failed', async () => {
    const l = log(21, (seq) => (seq === 3 ? 'act_receipt0001' : undefined));
    const good = () => receiptFor(l, 'act_receipt0001', [3]);
    const keys = [signer.verifier.text];
    const proof = good();
    proof.entries[0]!.proof[1] = b64(Buffer.alloc(32, 9));
    expect((await verifyReceipt(proof, keys)).checks.at(-1)!.text).toBe("Entry 3: the inclusion proof does not lead to the checkpoint's root.");
    const entry = good();
    entry.entries[0]!.entry = entry.entries[0]!.entry.replace('"seq":3', '"seq":4');
    expect((await verifyReceipt(entry, keys)).checks.at(-1)!.text).toBe('Entry 3: its bytes do not hash to the leaf hash given.');
    const size = good();
    size.treeSize = 22;
    expect((await verifyReceipt(size, keys)).ok).toBe(false);
    expect((await verifyReceipt(good(), [other.verifier.text])).checks.at(-1)!.text).toBe('Checkpoint: no trusted key signed the checkpoint');
    const forged = good();
    forged.checkpoint = forged.checkpoint.replace('\n21\n', '\n20\n');
    expect((await verifyReceipt(forged, keys)).checks.at(-1)!.text).toMatch(/^Checkpoint: the signature of example.com\/log does not verify/);
    const elsewhere = receiptFor(l, 'act_other000001', [3]);
    expect((await verifyReceipt(elsewhere, keys)).checks.at(-1)!.text).toBe('Entry 3: it belongs to another action.');
  });
});
