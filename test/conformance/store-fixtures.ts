// Builders for the store conformance suite: records come from the real domain
// transitions, so the suite stores what the product stores.
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import type { ActionRequest } from '../../src/domain/action.js';
import type { ActionRecord, Requester } from '../../src/domain/action-record.js';
import type { AuditEntry } from '../../src/domain/audit-entry.js';
import { decodeAuditEntry } from '../../src/domain/audit-entry.js';
import { isAppError } from '../../src/domain/errors.js';
import type { Principal } from '../../src/domain/identity.js';
import type { Transition } from '../../src/domain/lifecycle.js';
import { applyReview, createAction } from '../../src/domain/lifecycle.js';
import type { Decision, ReviewSpec } from '../../src/domain/policy-types.js';
import type { Verdict } from '../../src/domain/review.js';
import type { Store } from '../../src/ports/store.js';

export const T0 = new Date('2030-01-01T00:00:00.000Z');
export const HOUR = 3_600_000;
/** A runner whose lease outlives every test. */
export const RUNNER = { host: 'conformance', pid: 1, instance: 'conformance', leaseUntil: '2099-01-01T00:00:00.000Z' };
export const at = (ms: number): Date => new Date(T0.getTime() + ms);

export const agentA: Requester = { id: 'agent-a', type: 'agent', owner: 'owner-a@example.com' };
export const agentB: Requester = { id: 'agent-b', type: 'agent', owner: 'owner-b@example.com' };

export function human(id: string, ...groups: string[]): Principal {
  return { type: 'human', id, groups };
}

export function allow(): Decision {
  return { outcome: 'allow', rules: ['allow-reads'], policyVersion: 'sha256:policy', reason: 'reads are allowed', requirements: [] };
}

export function deny(): Decision {
  return { outcome: 'deny', rules: ['no-deletes'], policyVersion: 'sha256:policy', reason: 'deletes are denied', requirements: [] };
}

export function review(...specs: Array<Partial<ReviewSpec> & { ruleId?: string }>): Decision {
  const requirements = (specs.length ? specs : [{}]).map((s, i) => ({
    ruleId: s.ruleId ?? `rule-${i + 1}`,
    approvers: s.approvers ?? ['group:sre'],
    quorum: s.quorum ?? 1,
    timeoutMs: s.timeoutMs ?? HOUR,
    ...(s.escalate ? { escalate: s.escalate } : {}),
  }));
  return { outcome: 'review', rules: requirements.map((r) => r.ruleId), policyVersion: 'sha256:policy', reason: 'needs review', requirements };
}

let counter = 0;
/** Unique across the run, and sortable in creation order within a test. */
export function newId(): string {
  return `act-${String(++counter).padStart(6, '0')}`;
}

export function request(overrides: Partial<ActionRequest> = {}): ActionRequest {
  return {
    kind: 'http',
    target: 'billing-api',
    input: { method: 'POST', path: '/refunds', headers: { 'content-type': 'application/json' }, body: { amount: 4200, currency: 'EUR' } },
    ...overrides,
  };
}

export function newAction(
  opts: { decision?: Decision; requester?: Requester; now?: Date; id?: string; idempotencyKey?: string; request?: ActionRequest } = {},
): Transition {
  return createAction({
    id: opts.id ?? newId(),
    request: opts.request ?? request(),
    requester: opts.requester ?? agentA,
    decision: opts.decision ?? allow(),
    now: opts.now ?? T0,
    idempotencyKey: opts.idempotencyKey,
  });
}

export async function insert(store: Store, t: Transition): Promise<ActionRecord> {
  const r = await store.insertAction(t.next, t.audit);
  if (!r.inserted) throw new Error(`expected ${t.next.id} to be inserted`);
  return r.action;
}

/** What a review service does: read, decide, compare-and-swap, and on a miss read again. */
export async function reviewWithRetry(store: Store, id: string, who: Principal, verdict: Verdict, now = at(1000)): Promise<ActionRecord> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const a = await store.getAction(id);
    if (!a) throw new Error(`action ${id} is missing`);
    const t = applyReview(a, who, verdict, { fingerprint: a.fingerprint, via: 'conformance', now });
    if (await store.updateAction(t.next, a.version, t.audit)) return t.next;
  }
  throw new Error('no progress after 100 attempts');
}

export async function allEntries(store: Store): Promise<AuditEntry[]> {
  return store.readAudit(0, await store.auditSize());
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** The log's invariants: seqs 0..n-1, bytes that decode to the entry, RFC 9162 leaf hashes. */
export function expectWellFormedLog(entries: AuditEntry[]): void {
  expect(entries.map((e) => e.seq)).toEqual(range(entries.length));
  for (const e of entries) {
    const expected = createHash('sha256').update(Buffer.from([0])).update(e.bytes).digest();
    expect(Buffer.from(e.leafHash).equals(expected)).toBe(true);
    const decoded = decodeAuditEntry(e.bytes);
    expect({ seq: decoded.seq, type: decoded.type, ts: decoded.ts, actionId: decoded.actionId, actor: decoded.actor, data: decoded.data }).toEqual({
      seq: e.seq,
      type: e.type,
      ts: e.ts,
      actionId: e.actionId,
      actor: e.actor,
      data: e.data,
    });
  }
}

/** A storage failure, with nothing of the driver's message in what may leave the server. */
export function expectMaskedStorageError(e: unknown): void {
  expect(isAppError(e) && e.code).toBe('STORAGE_ERROR');
  if (!isAppError(e)) return;
  const visible = JSON.stringify({ message: e.message, details: e.details ?? null });
  expect(visible).not.toMatch(/constraint|sqlite|unique|primary key|\.db|table/i);
}

export async function rejectionOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected the promise to reject');
}
