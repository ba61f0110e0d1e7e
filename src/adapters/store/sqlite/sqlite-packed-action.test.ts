import { describe, expect, it } from 'vitest';
import { encodeAuditEntry, entryBytes } from '../../../domain/audit-entry.js';
import { createAction } from '../../../domain/lifecycle.js';
import type { Decision } from '../../../domain/policy-types.js';
import { audienceOf } from '../action-audience.js';
import { packAction, recordWithSeqs, unpackAction } from './sqlite-packed-action.js';
import { rowOf } from './sqlite-rows.js';

const review: Decision = {
  outcome: 'review',
  rules: ['refunds'],
  policyVersion: 'sha256:policy',
  reason: 'needs review',
  requirements: [{ ruleId: 'refunds', approvers: ['group:sre', 'user:Ann@Example.com'], quorum: 1, timeoutMs: 3_600_000 }],
};

function newAction(opts: { idempotencyKey?: string } = {}) {
  return createAction({
    id: 'act-1',
    request: { kind: 'http', target: 'billing-api', input: { method: 'POST', path: '/refunds', body: { amount: 4200, note: 'über' } } },
    requester: { id: 'agent-a', type: 'agent', owner: 'owner@example.com' },
    decision: review,
    now: new Date('2030-01-01T00:00:00.000Z'),
    idempotencyKey: opts.idempotencyKey,
  });
}

describe('a new action packed for the writer thread', () => {
  it('unpacks into the row, audience and entries the store would have computed from the record', () => {
    const t = newAction({ idempotencyKey: 'k-1' });
    const got = unpackAction(structuredClone(packAction(t.next, t.audit)));
    const stored = { ...t.next, auditSeqs: [7, 8] };
    const { record, ...columns } = rowOf(stored);
    expect(got.row.slice(0, 10)).toEqual(Object.values(columns));
    expect(JSON.parse(recordWithSeqs(got.row[10], [7, 8]))).toEqual(stored);
    expect(JSON.parse(record)).toEqual(stored);
    expect(got.audience).toEqual(audienceOf(t.next));
    expect(got.audience.length).toBeGreaterThan(0);
    expect(got.facts).toMatchObject({ id: 'act-1', status: 'pending', target: 'billing-api', fingerprint: t.next.fingerprint, idempotencyKey: 'k-1', requester: { id: 'agent-a' }, createdAt: t.next.createdAt, version: 1 });
    expect(got.drafts.map((d, i) => entryBytes(d, 7 + i))).toEqual(t.audit.map((d, i) => Buffer.from(encodeAuditEntry(7 + i, d).bytes)));
    expect(got.drafts.map((d) => [d.type, d.actionId])).toEqual(t.audit.map((d) => [d.type, d.actionId]));
  });

  it('carries the counter hits an action makes, and no idempotency key it does not have', () => {
    const t = newAction();
    t.next.tally = [{ counter: 'refunds', key: 'agent-a', weight: 2, on: 'allowed' }];
    const got = unpackAction(packAction(t.next, t.audit));
    expect(got.facts.tally).toEqual(t.next.tally);
    expect('idempotencyKey' in got.facts).toBe(false);
  });

  it('leaves out sequence numbers the record already holds: the writer gives them', () => {
    const t = newAction();
    const got = unpackAction(packAction({ ...t.next, auditSeqs: [1, 2] }, t.audit));
    expect((JSON.parse(recordWithSeqs(got.row[10], [5, 6])) as { auditSeqs: number[] }).auditSeqs).toEqual([5, 6]);
  });

  it('fails before anything is queued on what the store cannot encode, with the error the writer gave', () => {
    const t = newAction();
    expect(() => packAction({ ...t.next, createdAt: 'yesterday' }, t.audit)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    const bad = [{ ...t.audit[0]!, data: { note: '\ud800' } }];
    expect(() => packAction(t.next, bad)).toThrow(expect.objectContaining({ code: 'STORAGE_ERROR' }));
  });
});
