import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from './audit-entry.js';
import { AUDIT_TYPES, encodeAuditEntry, encodeDraft, entryBytes, leafHash } from './audit-entry.js';
import { canonicalJson } from './canonical-json.js';

/** The entry's bytes as the format defines them: the canonical JSON of its whole envelope. */
function envelopeBytes(seq: number, d: AuditDraft): Buffer {
  const envelope: Record<string, unknown> = { v: 1, seq, ts: d.ts, type: d.type, data: d.data };
  if (d.actionId !== undefined) envelope.actionId = d.actionId;
  if (d.actor !== undefined) envelope.actor = d.actor;
  return Buffer.from(canonicalJson(envelope), 'utf8');
}

// Keys that sort around the envelope's own (`seq`, `ts`, `v`...) are the ones a split could get wrong.
const key = fc.oneof(fc.constantFrom('seq', 'ts', 'type', 'v', 'data', 'actionId', 'actor', 'a', 'z', ''), fc.string());
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
})).object;
const draft: fc.Arbitrary<AuditDraft> = fc.record(
  {
    type: fc.constantFrom(...AUDIT_TYPES),
    ts: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    actionId: fc.string(),
    actor: fc.record({ type: fc.constantFrom('agent' as const, 'human' as const, 'system' as const), id: fc.string() }),
    data: json,
  },
  { requiredKeys: ['type', 'ts', 'data'] },
);

describe('an audit draft encoded before its sequence number is known', () => {
  it('joins into exactly the canonical bytes of the whole entry, whatever its data', () => {
    fc.assert(
      fc.property(draft, fc.nat(), (d, seq) => {
        const bytes = entryBytes(encodeDraft(d), seq);
        expect(bytes.equals(envelopeBytes(seq, d))).toBe(true);
        const e = encodeAuditEntry(seq, d);
        expect(Buffer.from(e.bytes).equals(bytes)).toBe(true);
        expect(Buffer.from(e.leafHash).equals(leafHash(bytes))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps what the store indexes (type, time, action) beside the bytes', () => {
    const e = encodeDraft({ type: 'action.decided', ts: '2030-01-01T00:00:00.000Z', actionId: 'act_1', data: { seq: 7 } });
    expect(e).toMatchObject({ type: 'action.decided', ts: '2030-01-01T00:00:00.000Z', actionId: 'act_1' });
    expect(entryBytes(e, 12).toString('utf8')).toBe('{"actionId":"act_1","data":{"seq":7},"seq":12,"ts":"2030-01-01T00:00:00.000Z","type":"action.decided","v":1}');
  });

  it('refuses what canonical JSON refuses, before any number is given', () => {
    expect(() => encodeDraft({ type: 'action.submitted', ts: 'x', data: { bad: '\ud800' } })).toThrow(/surrogate/);
    expect(() => encodeDraft({ type: 'action.submitted', ts: 'x', data: { bad: Number.NaN } })).toThrow(TypeError);
  });
});
