import { describe, expect, it } from 'vitest';
import type { ParsedEntry } from './audit-governance.js';
import { SummaryBuilder, summaryMarkdown } from './audit-summary.js';

const T = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
let seq = 0;
const e = (type: string, s: number, actionId: string | undefined, data: Record<string, unknown>): ParsedEntry => ({ seq: seq++, ts: T(s), type, ...(actionId ? { actionId } : {}), data });

describe('the audit summary', () => {
  it('counts decisions by outcome and rule, approvers, policy versions, reviews and the median time to approval', () => {
    const b = new SummaryBuilder(0, 100);
    const context = [e('policy.loaded', 0, undefined, { version: 'p1', trigger: 'startup' }), e('action.decided', 1, 'a0', { outcome: 'review', rules: ['r'], policyVersion: 'p1' })];
    for (const x of context) b.add(x, false);
    const range = [
      e('action.reviewed', 31, 'a0', { reviewer: 'alice@x', verdict: 'approve', outcome: 'approved' }), // 30 s after its decision, in the context
      e('action.submitted', 40, 'a1', { kind: 'http', requester: { id: 'bot' } }),
      e('action.decided', 40, 'a1', { outcome: 'allow', rules: ['reads'], policyVersion: 'p1' }),
      e('action.submitted', 41, 'a2', { kind: 'http', requester: { id: 'bot' } }),
      e('action.decided', 41, 'a2', { outcome: 'review', rules: ['releases', 'prod'], policyVersion: 'p1' }),
      e('action.reviewed', 51, 'a2', { reviewer: 'alice@x', verdict: 'approve', outcome: 'pending' }),
      e('action.reviewed', 51, 'a2', { reviewer: 'Bob@x', verdict: 'approve', outcome: 'approved' }),
      e('execution.started', 52, 'a2', {}),
      e('execution.finished', 53, 'a2', { ok: false }),
      e('action.submitted', 60, 'a3', { kind: 'http', requester: { id: 'bot' } }),
      e('action.decided', 60, 'a3', { outcome: 'review', rules: ['releases'], policyVersion: 'p1' }),
      e('action.expired', 99, 'a3', {}),
      e('action.decided', 70, 'a4', { outcome: 'deny', rules: [], policyVersion: 'p1' }),
    ];
    for (const x of range) b.add(x, true);
    const s = b.build();
    expect(s.entries).toBe(range.length);
    expect(s.decisions.byOutcome).toEqual({ allow: 1, review: 2, deny: 1 });
    expect(s.decisions.byRule).toEqual({ reads: { allow: 1 }, releases: { review: 2 }, prod: { review: 1 }, '(default)': { deny: 1 } });
    expect(s.reviews).toMatchObject({ actionsNeedingReview: 2, approved: 1, expired: 1, stillPending: 0, medianTimeToApprovalMs: 20_000 });
    expect(s.reviews.approvers).toEqual([
      { reviewer: 'alice@x', approvals: 2, denials: 0 },
      { reviewer: 'bob@x', approvals: 1, denials: 0 },
    ]);
    expect(s.executions).toEqual({ started: 1, succeeded: 0, failed: 1 });
    expect(s.policies).toEqual([{ version: 'p1', loadedAt: T(0), trigger: 'startup', seq: 0, decisions: 4 }]);
    const md = summaryMarkdown(s, { origin: 'o', governance: { violations: 0 } });
    expect(md).toContain('Median time from decision to approval: **20.0 s**');
    expect(md).toContain('| releases | 0 | 2 | 0 |');
  });

  it('counts a policy load in the range as an entry of it, from its time', () => {
    const b = new SummaryBuilder(0, 100);
    const range = [e('policy.loaded', 5, undefined, { version: 'p2', trigger: 'startup' }), e('action.decided', 6, 'a9', { outcome: 'deny', rules: [], policyVersion: 'p2' })];
    for (const x of range) b.add(x, true);
    const s = b.build();
    expect(s.entries).toBe(2);
    expect(s.range.from).toBe(T(5));
    expect(s.policies).toEqual([{ version: 'p2', loadedAt: T(5), trigger: 'startup', seq: range[0]!.seq, decisions: 1 }]);
  });
});
