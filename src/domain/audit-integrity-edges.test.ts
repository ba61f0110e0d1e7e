// The edges of the integrity pass (found by the mutation campaign): every finding with
// its message, expected and found values; reading sequence numbers from the bytes; the
// findings limit; roots and kept nodes at the sizes asked for; entries one at a time.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from './audit-entry.js';
import { encodeAuditEntry } from './audit-entry.js';
import { embeddedSeq, forEachEntry, IntegrityChecker } from './audit-integrity.js';
import { EMPTY_ROOT, nodesOfLeaves, RightEdge, rootOfLeaves, toLatin1 } from './merkle.js';

const draft = (i: number): AuditDraft => ({
  type: 'action.submitted',
  ts: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(),
  actionId: `act_${String(i).padStart(12, '0')}`,
  actor: { type: 'agent', id: 'bot' },
  data: { i },
});
const log = (n: number) => Array.from({ length: n }, (_, i) => encodeAuditEntry(i, draft(i)));
type Entries = ReturnType<typeof log>;
const blobOf = (entries: Entries) => Buffer.concat(entries.flatMap((e) => [Buffer.from([0]), Buffer.from(e.bytes)]));
const chunk = (entries: Entries, first = 0) => ({ first, blob: blobOf(entries), stored: Buffer.concat(entries.map((e) => Buffer.from(e.leafHash))) });
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

describe('the sequence number inside an entry', () => {
  it('is the digits after the last ,"seq": of the bytes, or -1 without digits or with more than 16', () => {
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":123,"ts":"x"}'))).toBe(123);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":0}'))).toBe(0);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":}'))).toBe(-1);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":x1}'))).toBe(-1);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":9007199254740991}'))).toBe(9007199254740991);
    expect(embeddedSeq(Buffer.from(`{"a":1,"seq":${'1'.repeat(17)}}`))).toBe(-1);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":/0}'))).toBe(-1);
    expect(embeddedSeq(Buffer.from('{"a":1,"seq":45:'))).toBe(45);
    expect(embeddedSeq(Buffer.from('{"seq":5}'))).toBe(-1);
    // Digits without the key are no sequence number; the key may be the very first bytes.
    expect(embeddedSeq(Buffer.from('{"ab":123}'))).toBe(-1);
    expect(embeddedSeq(Buffer.from(',"seq":5}'))).toBe(5);
    // A Uint8Array that is not a Buffer, viewing the middle of a larger one.
    const backing = Buffer.from('xx{"a":1,"seq":77}yy');
    expect(embeddedSeq(new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.length - 4))).toBe(77);
  });
});

describe('entries back to back', () => {
  it('each starts at its 0x00 byte and ends where the next starts', () => {
    const blob = Buffer.from([0, 65, 66, 0, 67, 0]);
    const seen: Array<[number, number, number]> = [];
    expect(forEachEntry(blob, (from, to, k) => seen.push([from, to, k]))).toBe(3);
    expect(seen).toEqual([
      [0, 3, 0],
      [3, 5, 1],
      [5, 6, 2],
    ]);
    expect(forEachEntry(Buffer.alloc(0), () => undefined)).toBe(0);
  });
});

describe('the integrity pass: findings', () => {
  it('a changed entry: expected is the stored leaf hash, found the hash of the bytes', () => {
    const entries = log(3);
    const c = chunk(entries);
    const from = c.blob.indexOf(0, 1);
    const to = c.blob.indexOf(0, from + 1);
    c.blob[c.blob.indexOf('"i":1') + 4] = '7'.charCodeAt(0);
    const checker = new IntegrityChecker();
    checker.addChunk(c);
    expect(checker.findings).toEqual([
      {
        kind: 'tampering',
        check: 'leaf-hash',
        seq: 1,
        message: 'entry 1 was changed: its bytes do not hash to its stored leaf hash',
        expected: b64(entries[1]!.leafHash),
        found: createHash('sha256').update(c.blob.subarray(from, to)).digest('base64'),
      },
    ]);
    expect(checker.problems).toBe(1);
  });

  it('without stored hashes nothing is compared, and the root is of the bytes as they are', () => {
    const entries = log(4);
    const checker = new IntegrityChecker({ rootsAt: [4] });
    checker.addChunk({ first: 0, blob: blobOf(entries) });
    expect(checker.findings).toEqual([]);
    expect(Buffer.from(checker.roots.get(4)!)).toEqual(Buffer.from(rootOfLeaves(entries.map((e) => e.leafHash))));
  });

  it('one missing entry, and several', () => {
    const entries = log(6);
    const one = new IntegrityChecker();
    one.addChunk({ ...chunk([entries[0]!, entries[2]!]), seqs: [0, 2] });
    expect(one.findings).toEqual([{ kind: 'tampering', check: 'missing-entries', seq: 1, message: 'entry 1 is missing', expected: '1', found: '2' }]);
    const several = new IntegrityChecker();
    several.addChunk({ ...chunk([entries[0]!, entries[4]!]), seqs: [0, 4] });
    expect(several.findings).toEqual([{ kind: 'tampering', check: 'missing-entries', seq: 1, message: 'entries 1 to 3 are missing', expected: '1', found: '4' }]);
    // After a gap the count goes on from the entry found: the next one is not a gap too.
    several.addChunk({ ...chunk([entries[5]!]), first: 5 });
    expect(several.findings).toHaveLength(1);
  });

  it('an entry that appears again is named with the one before it', () => {
    const entries = log(3);
    const c = new IntegrityChecker();
    c.addChunk({ ...chunk([entries[0]!, entries[1]!, entries[1]!]), seqs: [0, 1, 1] });
    expect(c.findings).toEqual([{ kind: 'tampering', check: 'out-of-order', seq: 1, message: 'entry 1 appears again after entry 1', expected: '2', found: '1' }]);
  });

  it('an entry in the wrong place says whether one was inserted or removed before it', () => {
    const entries = log(3);
    const swapped = new IntegrityChecker();
    swapped.addChunk({ first: 0, blob: blobOf([entries[0]!, entries[2]!, entries[1]!]) });
    expect(swapped.findings).toEqual([
      { kind: 'tampering', check: 'sequence-number', seq: 1, message: 'position 1 holds the entry written as number 2: an entry was removed before it, or entries were moved', expected: '1', found: '2' },
      { kind: 'tampering', check: 'sequence-number', seq: 2, message: 'position 2 holds the entry written as number 1: an entry was inserted before it, or entries were moved', expected: '2', found: '1' },
    ]);
  });

  it('an entry written as number 0 at a later position was inserted before, and names 0 as found', () => {
    const entries = log(1);
    const c = new IntegrityChecker();
    c.addChunk({ first: 0, blob: blobOf([entries[0]!, entries[0]!]) });
    expect(c.findings).toEqual([
      { kind: 'tampering', check: 'sequence-number', seq: 1, message: 'position 1 holds the entry written as number 0: an entry was inserted before it, or entries were moved', expected: '1', found: '0' },
    ]);
  });

  it("an entry's sequence number is read from its own bytes, never from the entry after it", () => {
    // The second entry's bytes begin with the key: the first entry still holds its own 0.
    const c = new IntegrityChecker();
    c.addChunk({ first: 0, blob: Buffer.concat([blobOf(log(1)), Buffer.from('\0,"seq":1}')]) });
    expect(c.findings).toEqual([]);
  });

  it('bytes that hold no sequence number are not an entry as written', () => {
    const c = new IntegrityChecker();
    c.addChunk({ first: 0, blob: Buffer.from('\0{"a":1}') });
    expect(c.findings).toEqual([{ kind: 'tampering', check: 'sequence-number', seq: 0, message: 'entry 0 holds no sequence number: it is not an entry as written', expected: '0', found: 'none' }]);
    // A sequence number of the entry before does not count for this one.
    const d = new IntegrityChecker();
    d.addChunk({ first: 0, blob: Buffer.concat([blobOf(log(1)), Buffer.from('\0{"b":2}')]) });
    expect(d.findings.map((f) => [f.seq, f.found])).toEqual([[1, 'none']]);
  });

  it('the findings kept are bounded by the limit; problems are all counted', () => {
    const entries = log(5);
    const c = new IntegrityChecker({ limit: 2 });
    c.addChunk({ first: 0, blob: blobOf([entries[4]!, entries[3]!, entries[2]!, entries[1]!, entries[0]!]) });
    expect(c.findings).toHaveLength(2);
    expect(c.problems).toBe(4);
    const many = new IntegrityChecker();
    many.addChunk({ first: 0, blob: Buffer.from('\0{}'.repeat(1001)) });
    expect(many.findings).toHaveLength(1000);
    expect(many.problems).toBe(1001);
  });
});

describe('the integrity pass: roots, nodes and state', () => {
  it('entries one at a time, with or without their stored hash, count and give roots like a chunk', () => {
    const entries = log(5);
    const c = new IntegrityChecker({ rootsAt: [0, 2, 5] });
    expect(c.roots.get(0)).toEqual(Buffer.from(EMPTY_ROOT));
    entries.forEach((e, i) => c.add(i, e.bytes, i % 2 ? e.leafHash : undefined));
    expect(c.findings).toEqual([]);
    expect(c.size).toBe(5);
    expect(Buffer.from(c.roots.get(2)!)).toEqual(Buffer.from(rootOfLeaves(entries.slice(0, 2).map((e) => e.leafHash))));
    expect([...c.roots.keys()].sort()).toEqual([0, 2, 5]);
    // Only the sizes asked for: not the size it starts from when that is not one of them.
    const some = new IntegrityChecker({ rootsAt: [2] });
    some.addChunk(chunk(entries));
    expect([...some.roots.keys()]).toEqual([2]);
    const bad = new IntegrityChecker();
    bad.add(0, entries[0]!.bytes, entries[1]!.leafHash);
    expect(bad.findings.map((f) => f.check)).toEqual(['leaf-hash']);
  });

  it('a root asked for at the size it resumes from is the edge root', () => {
    const entries = log(3);
    const edge = new RightEdge();
    entries.forEach((e) => edge.append(e.leafHash));
    const c = new IntegrityChecker({ edge, rootsAt: [3] });
    expect(c.size).toBe(3);
    expect(Buffer.from(c.roots.get(3)!)).toEqual(Buffer.from(rootOfLeaves(entries.map((e) => e.leafHash))));
    expect(() => new IntegrityChecker({ edge, start: 2 })).toThrow('the edge must end where the entries start');
  });

  it('the right edge it gives is a copy of its state', () => {
    const entries = log(4);
    const c = new IntegrityChecker();
    c.addChunk(chunk(entries.slice(0, 3)));
    const edge = c.rightEdge();
    expect(edge.size).toBe(3);
    c.addChunk(chunk(entries.slice(3), 3));
    expect(edge.size).toBe(3);
    expect(c.rightEdge().root()).toEqual(Buffer.from(rootOfLeaves(entries.map((e) => e.leafHash))));
  });

  it('keeps the perfect subtrees from the level asked, by in-order position', () => {
    const entries = log(8);
    const t = nodesOfLeaves(entries.map((e) => e.leafHash));
    const c = new IntegrityChecker({ keepNodesFrom: 2 });
    c.addChunk(chunk(entries));
    // In-order position of (level, index): index * 2^(level+1) + 2^level - 1.
    expect([...c.nodes.keys()].sort((a, b) => a - b)).toEqual([3, 7, 11]);
    expect(c.nodes.get(3)).toBe(toLatin1(t.node(2, 0)));
    expect(c.nodes.get(11)).toBe(toLatin1(t.node(2, 1)));
    expect(c.nodes.get(7)).toBe(toLatin1(t.node(3, 0)));
    const none = new IntegrityChecker();
    none.addChunk(chunk(entries));
    expect(none.nodes.size).toBe(0);
    const fromOne = new IntegrityChecker({ keepNodesFrom: 1 });
    fromOne.addChunk(chunk(entries.slice(0, 2)));
    expect([...fromOne.nodes.keys()]).toEqual([1]);
  });
});
