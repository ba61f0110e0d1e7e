import { describe, expect, it } from 'vitest';
import type { AuditDraft } from './audit-entry.js';
import { encodeAuditEntry } from './audit-entry.js';
import { embeddedSeq, IntegrityChecker } from './audit-integrity.js';
import { RightEdge, rootOfLeaves } from './merkle.js';

const draft = (i: number, data: Record<string, unknown> = {}): AuditDraft => ({
  type: 'action.submitted',
  ts: new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString(),
  actionId: `act_${String(i).padStart(12, '0')}`,
  actor: { type: 'agent', id: 'bot' },
  data: { i, ...data },
});
const log = (n: number, data?: Record<string, unknown>) => Array.from({ length: n }, (_, i) => encodeAuditEntry(i, draft(i, data)));
const chunk = (entries: ReturnType<typeof log>, first = 0) => ({
  first,
  blob: Buffer.concat(entries.flatMap((e) => [Buffer.from([0]), Buffer.from(e.bytes)])),
  stored: Buffer.concat(entries.map((e) => Buffer.from(e.leafHash))),
});

describe('the integrity pass', () => {
  it('finds nothing in an intact log and gives the root of every size asked for, in chunks of any size', () => {
    const entries = log(37);
    const c = new IntegrityChecker({ rootsAt: [1, 16, 37] });
    c.addChunk(chunk(entries.slice(0, 10)));
    c.addChunk(chunk(entries.slice(10, 11), 10));
    c.addChunk(chunk(entries.slice(11), 11));
    expect(c.findings).toEqual([]);
    for (const n of [1, 16, 37]) expect(Buffer.from(c.roots.get(n)!).equals(Buffer.from(rootOfLeaves(entries.slice(0, n).map((e) => e.leafHash))))).toBe(true);
  });

  it('names a changed entry, a missing one, a moved one, and one that repeats', () => {
    const entries = log(8);
    const changed = chunk(entries);
    changed.blob[changed.blob.indexOf('"i":3') + 4] = '9'.charCodeAt(0);
    const c = new IntegrityChecker();
    c.addChunk(changed);
    expect(c.findings.map((f) => [f.check, f.seq])).toEqual([['leaf-hash', 3]]);

    const gap = new IntegrityChecker();
    gap.addChunk({ ...chunk([...entries.slice(0, 2), ...entries.slice(4)]), seqs: [0, 1, 4, 5, 6, 7] });
    expect(gap.findings.map((f) => [f.check, f.seq, f.message])).toEqual([['missing-entries', 2, 'entries 2 to 3 are missing']]);

    const swapped = new IntegrityChecker();
    swapped.addChunk(chunk([entries[0]!, entries[2]!, entries[1]!]));
    expect(swapped.findings.map((f) => [f.check, f.seq, f.found])).toEqual([
      ['sequence-number', 1, '2'],
      ['sequence-number', 2, '1'],
    ]);

    const again = new IntegrityChecker();
    again.addChunk({ ...chunk(entries.slice(0, 3)), seqs: [0, 1, 1] });
    expect(again.findings.map((f) => f.check)).toContain('out-of-order');
  });

  it('reads the top-level sequence number, not a nested look-alike', () => {
    const [e] = log(1, { nested: { seq: 99, text: ',"seq":42' } });
    expect(embeddedSeq(e!.bytes)).toBe(0);
    expect(embeddedSeq(Buffer.from('{"a":1}'))).toBe(-1);
  });

  it('resumes from a right edge (a bundle that starts mid-log)', () => {
    const entries = log(21);
    const left = new RightEdge();
    entries.slice(0, 13).forEach((e) => left.append(e.leafHash));
    const c = new IntegrityChecker({ start: 13, edge: left, rootsAt: [21] });
    c.addChunk(chunk(entries.slice(13), 13));
    expect(c.findings).toEqual([]);
    expect(Buffer.from(c.roots.get(21)!).equals(Buffer.from(rootOfLeaves(entries.map((e) => e.leafHash))))).toBe(true);
    expect(() => new IntegrityChecker({ start: 12, edge: left })).toThrow(RangeError);
  });
});
