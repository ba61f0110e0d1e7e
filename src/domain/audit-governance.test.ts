import { describe, expect, it } from 'vitest';
import type { ActionRequest } from './action.js';
import type { ActionRecord, Requester } from './action-record.js';
import type { AuditDraft } from './audit-entry.js';
import { encodeAuditEntry } from './audit-entry.js';
import type { ParsedEntry } from './audit-governance.js';
import { GovernanceChecker } from './audit-governance.js';
import type { Principal } from './identity.js';
import type { Transition } from './lifecycle.js';
import { applyReview, cancelAction, createAction, escalateAction, expireAction, finishExecution, startExecution } from './lifecycle.js';
import type { Decision } from './policy-types.js';

// Logs are built from the real lifecycle transitions, then bent the way a faulty or
// compromised gateway would write them; the checker reads them as the verifier does,
// from the canonical bytes.

const T0 = new Date('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const POLICY = `sha256:${'a'.repeat(64)}`;
const RUNNER = { host: 'h', pid: 1, instance: 'i', leaseUntil: '2099-01-01T00:00:00.000Z' };
const agent: Requester = { id: 'deploy-bot', type: 'agent', owner: 'olga@example.com' };
const human = (id: string, ...groups: string[]): Principal => ({ type: 'human', id, groups });
const alice = human('alice@example.com', 'release');
const bob = human('bob@example.com', 'release');
const carol = human('carol@example.com', 'oncall');

const allow: Decision = { outcome: 'allow', rules: ['reads'], policyVersion: POLICY, reason: 'ok', requirements: [] };
const deny: Decision = { outcome: 'deny', rules: ['no'], policyVersion: POLICY, reason: 'no', requirements: [] };
const review = (quorum = 2, escalate?: { afterMs: number; to: Array<`group:${string}`> }): Decision => ({
  outcome: 'review',
  rules: ['releases'],
  policyVersion: POLICY,
  reason: 'review',
  requirements: [{ ruleId: 'releases', approvers: ['group:release'], quorum, timeoutMs: 3_600_000, ...(escalate ? { escalate } : {}) }],
});
const request = (mode: 'execute' | 'decide' = 'execute', onBehalfOf?: string): ActionRequest => ({
  kind: 'http',
  target: 'github',
  input: { method: 'POST', path: '/repos/acme/app/releases', context: { fingerprint: 'sha256:forged', seq: 7 } },
  mode,
  ...(onBehalfOf ? { onBehalfOf } : {}),
});

let ids = 0;
function action(decision: Decision, req = request()): Transition {
  return createAction({ id: `act_test${String(++ids).padStart(10, '0')}`, request: req, requester: agent, decision, now: T0 });
}

const policyLoaded = (version = POLICY, ms = -1000): AuditDraft => ({ type: 'policy.loaded', ts: at(ms).toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version, trigger: 'startup', rules: 3 } });

/** Encodes drafts in order and checks them as the verifier reads them. */
function check(...drafts: AuditDraft[]): GovernanceChecker {
  const g = new GovernanceChecker();
  drafts.forEach((d, seq) => g.add(JSON.parse(Buffer.from(encodeAuditEntry(seq, d).bytes).toString('utf8')) as ParsedEntry));
  return g;
}

const checks = (g: GovernanceChecker) => g.findings.map((f) => f.check);

/** Runs an action through approvals (each a human and a time) and execution. */
function approvedAndRun(t: Transition, who: Principal[], opts: { execAt?: number; fingerprint?: string } = {}): AuditDraft[] {
  const out = [...t.audit];
  let a: ActionRecord = t.next;
  who.forEach((h, i) => {
    const r = applyReview(a, h, 'approve', { fingerprint: opts.fingerprint ?? a.fingerprint, via: 'cli', now: at(1000 * (i + 1)) });
    out.push(...r.audit);
    a = r.next;
  });
  const s = startExecution({ ...a, status: 'approved' }, at(opts.execAt ?? 10_000), RUNNER);
  const f = finishExecution(s.next, { ok: true, status: 200 }, at((opts.execAt ?? 10_000) + 100));
  return [...out, ...s.audit, ...f.audit];
}

describe('governance checked from the entries alone', () => {
  it('accepts a log where every rule held: allowed, reviewed, escalated, denied, expired, cancelled, decide-mode', () => {
    const allowed = action(allow);
    const reviewed = action(review(2));
    const esc = action(review(1, { afterMs: 500, to: ['group:oncall'] }));
    const escalated = escalateAction(esc.next, at(600));
    const byOncall = applyReview(escalated.next, carol, 'approve', { fingerprint: esc.next.fingerprint, via: 'api', now: at(700) });
    const denied = action(deny);
    const toExpire = action(review());
    const toCancel = action(review());
    const decide = action(allow, request('decide'));
    const g = check(
      policyLoaded(),
      ...approvedAndRun(allowed, []),
      ...approvedAndRun(reviewed, [alice, bob]),
      ...esc.audit,
      ...escalated.audit,
      ...byOncall.audit,
      ...startExecution(byOncall.next, at(800), RUNNER).audit,
      ...denied.audit,
      ...toExpire.audit,
      ...expireAction(toExpire.next, at(3_600_000)).audit,
      ...toCancel.audit,
      ...cancelAction(toCancel.next, { type: 'agent', id: agent.id, owner: agent.owner!, labels: {} }, at(50)).audit,
      ...decide.audit,
    );
    expect(g.findings).toEqual([]);
    expect(g.stats).toMatchObject({ actions: 7, executions: 3, reviews: 3, policyVersions: 1 });
  });

  it('an execution without the approvals its requirements need (1 of 2)', () => {
    const g = check(policyLoaded(), ...approvedAndRun(action(review(2)), [alice]));
    expect(g.findings).toEqual([expect.objectContaining({ check: 'execution-without-approval', seq: 4, found: 'releases: 1 of 2' })]);
  });

  it('an execution with no approval at all, and one of an action never submitted', () => {
    const t = action(review(1));
    const g = check(policyLoaded(), ...t.audit, ...startExecution({ ...t.next, status: 'approved' }, at(5), RUNNER).audit);
    expect(checks(g)).toEqual(['execution-without-approval']);
    const orphan = check(policyLoaded(), ...startExecution({ ...t.next, status: 'approved' }, at(5), RUNNER).audit);
    expect(checks(orphan)).toEqual(['execution-without-decision']);
  });

  it('self-approval by the requester side does not count: owner, onBehalfOf', () => {
    const t = action(review(1), request('execute', 'dana@example.com'));
    const owner = human('olga@example.com', 'release');
    const dana = human('dana@example.com', 'release');
    // The lifecycle refuses these; a faulty gateway might still write them.
    const forged = (who: Principal, ms: number): AuditDraft => ({
      type: 'action.reviewed',
      ts: at(ms).toISOString(),
      actionId: t.next.id,
      actor: { type: 'human', id: who.id },
      data: { reviewer: who.id, groups: who.type === 'human' ? [...who.groups] : [], verdict: 'approve', via: 'api', at: at(ms).toISOString(), countsFor: ['releases'], fingerprint: t.next.fingerprint, outcome: 'approved' },
    });
    const s = startExecution({ ...t.next, status: 'approved' }, at(9000), RUNNER);
    const g = check(policyLoaded(), ...t.audit, forged(owner, 1000), forged(dana, 2000), ...s.audit);
    expect(checks(g)).toEqual(['self-approval', 'review-outcome-mismatch', 'self-approval', 'review-outcome-mismatch', 'execution-without-approval']);
  });

  it('approvals from the ineligible, agents, the same human twice, or of another fingerprint do not count', () => {
    const t = action(review(2));
    const forged = (id: string, groups: string[], ms: number, extra: Record<string, unknown> = {}, actorType: 'human' | 'agent' = 'human'): AuditDraft => ({
      type: 'action.reviewed',
      ts: at(ms).toISOString(),
      actionId: t.next.id,
      actor: { type: actorType, id },
      data: { reviewer: id, groups, verdict: 'approve', via: 'api', at: at(ms).toISOString(), countsFor: ['releases'], fingerprint: t.next.fingerprint, outcome: 'pending', ...extra },
    });
    const g = check(
      policyLoaded(),
      ...t.audit,
      forged('eve@example.com', ['marketing'], 1000),
      forged('alice@example.com', ['release'], 2000),
      forged('ALICE@example.com', ['release'], 3000),
      forged('bob@example.com', ['release'], 4000, { fingerprint: `sha256:${'0'.repeat(64)}` }),
      forged('other-bot', ['release'], 5000, {}, 'agent'),
      ...startExecution({ ...t.next, status: 'approved' }, at(9000), RUNNER).audit,
    );
    expect(checks(g)).toEqual(['not-eligible', 'reviewed-twice', 'fingerprint-mismatch', 'agent-reviewed', 'execution-without-approval']);
  });

  it('an escalation target approving before the escalation is not eligible; after it, is', () => {
    const t = action(review(1, { afterMs: 500, to: ['group:oncall'] }));
    const early = applyReview({ ...t.next, review: { ...t.next.review!, requirements: t.next.review!.requirements.map((q) => ({ ...q, escalate: { ...q.escalate!, done: true } })) } }, carol, 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(100) });
    const g = check(policyLoaded(), ...t.audit, ...early.audit, ...startExecution(early.next, at(200), RUNNER).audit);
    expect(checks(g)).toEqual(['not-eligible', 'review-outcome-mismatch', 'execution-without-approval']);
  });

  it('nothing runs after a deny, an expiry or a cancel; nothing runs twice, nor in decide mode', () => {
    const denied = action(deny);
    // What a faulty gateway would write: the lifecycle itself refuses these.
    const run = (a: ActionRecord, ms = 5000): AuditDraft[] => [{ type: 'execution.started', ts: at(ms).toISOString(), actionId: a.id, actor: { type: 'system', id: 'countersign' }, data: { fingerprint: a.fingerprint } }];
    const expired = action(review());
    const cancelled = action(review());
    const twice = action(allow);
    const s1 = startExecution(twice.next, at(10), RUNNER);
    const decide = action(allow, request('decide'));
    const g = check(
      policyLoaded(),
      ...denied.audit,
      ...run(denied.next),
      ...expired.audit,
      ...expireAction(expired.next, at(3_600_000)).audit,
      ...run(expired.next),
      ...cancelled.audit,
      ...cancelAction(cancelled.next, { type: 'agent', id: agent.id, owner: agent.owner!, labels: {} }, at(10)).audit,
      ...run(cancelled.next),
      ...twice.audit,
      ...s1.audit,
      ...finishExecution(s1.next, { ok: true }, at(20)).audit,
      ...run(twice.next),
      ...decide.audit,
      ...run(decide.next),
    );
    expect(checks(g)).toEqual(['execution-after-close', 'execution-after-close', 'execution-after-close', 'executed-twice', 'decide-mode-executed']);
    expect(g.findings[0]!.message).toMatch(/after it was denied/);
  });

  it('an execution of another fingerprint than the decided one', () => {
    const t = action(allow);
    const s = startExecution(t.next, at(10), RUNNER);
    s.audit[0]!.data.fingerprint = `sha256:${'1'.repeat(64)}`;
    expect(checks(check(policyLoaded(), ...t.audit, ...s.audit))).toEqual(['fingerprint-mismatch']);
  });

  it('a decision naming a policy version never loaded, or loaded only after it', () => {
    const t = action(allow);
    expect(checks(check(...t.audit))).toEqual(['unknown-policy-version']);
    expect(checks(check(policyLoaded(`sha256:${'b'.repeat(64)}`), ...t.audit))).toEqual(['unknown-policy-version']);
    expect(checks(check(...t.audit, policyLoaded()))).toEqual(['unknown-policy-version']);
  });

  it('an approval after the deadline, or dated after the execution started', () => {
    const late = action(review(1));
    const a = applyReview(late.next, alice, 'approve', { fingerprint: late.next.fingerprint, via: 'api', now: at(1000) });
    a.audit[0]!.ts = at(3_600_001).toISOString();
    expect(checks(check(policyLoaded(), ...late.audit, ...a.audit))).toEqual(['review-after-expiry']);

    const t = action(review(1));
    const r = applyReview(t.next, alice, 'approve', { fingerprint: t.next.fingerprint, via: 'api', now: at(5000) });
    const s = startExecution(r.next, at(4000), RUNNER);
    expect(checks(check(policyLoaded(), ...t.audit, ...r.audit, ...s.audit))).toEqual(['approval-after-execution']);
  });

  it('reads nested look-alikes as data: a "fingerprint" or "seq" inside the input changes nothing', () => {
    const g = check(policyLoaded(), ...approvedAndRun(action(allow), []));
    expect(g.findings).toEqual([]);
  });

  it('entries of an unknown type, or without what their type needs', () => {
    const g = check(
      { type: 'action.teleported' as never, ts: T0.toISOString(), actionId: 'act_x', data: {} },
      { type: 'action.submitted', ts: T0.toISOString(), actionId: 'act_y', data: { kind: 'http' } },
      { type: 'policy.loaded', ts: T0.toISOString(), data: {} },
    );
    expect(checks(g)).toEqual(['unknown-entry-type', 'malformed-entry', 'malformed-entry']);
  });
});
