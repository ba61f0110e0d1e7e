// The edges of the offline governance checks (found by the mutation campaign): every
// finding with its check name, entry and message; entries out of place for the state
// the action is in; malformed entries; the boundaries of time checks; the findings limit.
// Entries are given to the checker as the verifier parses them.
import { describe, expect, it } from 'vitest';
import { AUDIT_TYPES } from './audit-entry.js';
import type { ParsedEntry } from './audit-governance.js';
import { GovernanceChecker } from './audit-governance.js';

const POLICY = `sha256:${'a'.repeat(64)}`;
const FP = `sha256:${'f'.repeat(64)}`;
const OTHER_FP = `sha256:${'0'.repeat(64)}`;
const T = (s: number) => new Date(Date.UTC(2030, 0, 1) + s * 1000).toISOString();
const SYSTEM = { type: 'system' as const, id: 'countersign' };

type Draft = Omit<ParsedEntry, 'seq'>;

function run(entries: Draft[], limit?: number): GovernanceChecker {
  const g = new GovernanceChecker(limit);
  entries.forEach((e, seq) => g.add({ seq, ...e }));
  return g;
}

const loaded = (version = POLICY): Draft => ({ type: 'policy.loaded', ts: T(0), actor: SYSTEM, data: { version } });
const submitted = (id = 'a1', extra: Record<string, unknown> = {}): Draft => ({
  type: 'action.submitted',
  ts: T(1),
  actionId: id,
  actor: { type: 'agent', id: 'bot' },
  data: { fingerprint: FP, mode: 'execute', requester: { id: 'bot', owner: 'olga@example.com' }, ...extra },
});
const requirement = { ruleId: 'releases', approvers: ['group:release'], quorum: 1, timeoutMs: 3_600_000 };
const decided = (outcome: string, id = 'a1', extra: Record<string, unknown> = {}): Draft => ({
  type: 'action.decided',
  ts: T(2),
  actionId: id,
  actor: SYSTEM,
  data: { outcome, policyVersion: POLICY, fingerprint: FP, ...(outcome === 'review' ? { requirements: [requirement], expiresAt: T(3600) } : {}), ...extra },
});
const reviewed = (who: string, verdict: 'approve' | 'deny', s: number, id = 'a1', extra: Record<string, unknown> = {}, actor: ParsedEntry['actor'] = { type: 'human', id: who }): Draft => ({
  type: 'action.reviewed',
  ts: T(s),
  actionId: id,
  actor,
  data: { reviewer: who, groups: ['release'], verdict, via: 'api', ...(verdict === 'approve' ? { fingerprint: FP } : {}), ...extra },
});
const started = (s: number, id = 'a1', fingerprint = FP): Draft => ({ type: 'execution.started', ts: T(s), actionId: id, actor: SYSTEM, data: { fingerprint } });
const finished = (s: number, id = 'a1'): Draft => ({ type: 'execution.finished', ts: T(s), actionId: id, actor: SYSTEM, data: { outcome: 'succeeded' } });
const on = (type: string, s: number, id = 'a1', data: Record<string, unknown> = {}, actor: ParsedEntry['actor'] = SYSTEM): Draft => ({ type, ts: T(s), actionId: id, actor, data });

describe('governance findings: what each one says', () => {
  it('a clean reviewed and executed action leaves no finding and is counted', () => {
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10), started(20), finished(21)]);
    expect(g.findings).toEqual([]);
    expect(g.violations).toBe(0);
    expect(g.stats).toEqual({ actions: 1, executions: 1, reviews: 1, policyVersions: 1 });
  });

  it('a finding names its kind, check, entry, action and message', () => {
    const g = run([loaded(), submitted(), decided('allow'), started(5), finished(6), started(7)]);
    expect(g.findings).toEqual([{ kind: 'governance', check: 'executed-twice', seq: 5, actionId: 'a1', message: 'the action already ran (finished at entry 4): execution is at most once' }]);
  });

  it('a finding about an entry of no action carries no action id', () => {
    const g = run([{ type: 'policy.loaded', ts: T(0), data: {} }]);
    expect(g.findings).toEqual([{ kind: 'governance', check: 'malformed-entry', seq: 0, message: 'policy.loaded names no version' }]);
  });

  it('an entry of an unknown type is named with its type', () => {
    expect(run([on('action.teleported', 1)]).findings[0]).toMatchObject({ check: 'unknown-entry-type', message: 'unknown entry type "action.teleported"' });
  });

  it('an action entry without an action id is malformed', () => {
    const g = run([{ type: 'action.reviewed', ts: T(1), data: {} }]);
    expect(g.findings).toEqual([{ kind: 'governance', check: 'malformed-entry', seq: 0, message: 'action.reviewed names no action' }]);
  });

  it('entries about the gateway rather than one action need no action id', () => {
    const gateway = ['policy.rejected', 'config.loaded', 'config.rejected', 'mcp.tool.pinned', 'mcp.tool.changed', 'mcp.tool.repinned', 'pgwire.login', 'grant.created', 'grant.revoked', 'grant.ended', 'runner.connected', 'runner.refused'];
    // Console sign-ins and sign-outs (a revocation from the CLI writes one) and linked chat accounts: these were once taken for malformed action entries.
    gateway.push('console.session.started', 'console.session.ended', 'chat.identity.linked');
    for (const type of gateway) {
      expect(AUDIT_TYPES as readonly string[]).toContain(type);
      const g = run([{ type, ts: T(0), actor: SYSTEM, data: {} }]);
      expect(g.findings, type).toEqual([]);
    }
  });

  it('a policy version loaded twice counts once', () => {
    const g = run([loaded(), loaded(), loaded(`sha256:${'b'.repeat(64)}`)]);
    expect(g.stats.policyVersions).toBe(2);
    expect([...g.policyVersions()]).toEqual([POLICY, `sha256:${'b'.repeat(64)}`]);
  });

  it('the findings kept are bounded; the count of violations goes on', () => {
    const g = run([on('x.1', 0), on('x.2', 1), on('x.3', 2)], 2);
    expect(g.findings).toHaveLength(2);
    expect(g.violations).toBe(3);
    const unbounded = run(Array.from({ length: 1001 }, (_, i) => on(`x.${i}`, 0)));
    expect(unbounded.findings).toHaveLength(1000);
    expect(unbounded.violations).toBe(1001);
  });
});

describe('submissions and decisions', () => {
  it('a second submission of a live action, and of one that ended', () => {
    const live = run([loaded(), submitted(), submitted()]);
    expect(live.findings).toEqual([expect.objectContaining({ check: 'submitted-twice', seq: 2, message: 'the action was already submitted at entry 1' })]);
    expect(live.stats.actions).toBe(1);
    const ended = run([loaded(), submitted(), decided('deny'), submitted()]);
    expect(ended.findings).toEqual([expect.objectContaining({ check: 'submitted-twice', seq: 3, message: 'the action was already submitted and denied (entry 2)' })]);
  });

  it('a submission without fingerprint, mode or requester id is malformed and not counted', () => {
    for (const data of [
      { mode: 'execute', requester: { id: 'bot' } },
      { fingerprint: FP, requester: { id: 'bot' } },
      { fingerprint: FP, mode: 'execute' },
      { fingerprint: FP, mode: 'execute', requester: { owner: 'x' } },
    ]) {
      const g = run([on('action.submitted', 1, 'a1', data)]);
      expect(g.findings, JSON.stringify(data)).toEqual([expect.objectContaining({ check: 'malformed-entry', message: 'the submission lacks its fingerprint, mode or requester' })]);
      expect(g.stats.actions).toBe(0);
    }
  });

  it('a decision without a submission, a second decision, and a decision lacking what it must say', () => {
    expect(run([loaded(), decided('allow')]).findings).toEqual([expect.objectContaining({ check: 'decision-without-submission', message: 'a decision for an action whose submission is not in the log' })]);
    expect(run([loaded(), submitted(), decided('review'), decided('review')]).findings).toEqual([
      expect.objectContaining({ check: 'decided-twice', seq: 3, message: 'the action was already decided at entry 2' }),
    ]);
    for (const drop of ['outcome', 'fingerprint', 'policyVersion']) {
      const d = decided('allow');
      delete d.data[drop];
      expect(run([loaded(), submitted(), d]).findings, drop).toEqual([expect.objectContaining({ check: 'malformed-entry', message: 'the decision lacks its outcome, fingerprint or policy version' })]);
    }
  });

  it('a decision for another fingerprint says which was submitted and which decided', () => {
    const g = run([loaded(), submitted(), decided('deny', 'a1', { fingerprint: OTHER_FP })]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'fingerprint-mismatch', message: 'the decision is for another fingerprint than the one submitted', expected: FP, found: OTHER_FP })]);
  });

  it('an unknown policy version names the last three loaded, or none', () => {
    const none = run([submitted(), decided('deny')]);
    expect(none.findings).toEqual([expect.objectContaining({ check: 'unknown-policy-version', message: 'the decision names a policy version that was never loaded before it', found: POLICY, expected: 'none loaded' })]);
    const v = (c: string) => `sha256:${c.repeat(64)}`;
    const four = run([loaded(v('1')), loaded(v('2')), loaded(v('3')), loaded(v('4')), submitted(), decided('deny')]);
    expect(four.findings[0]!.expected).toBe(`${v('2')}, ${v('3')}, ${v('4')}`);
  });

  it('an unknown outcome is malformed and named', () => {
    expect(run([loaded(), submitted(), decided('maybe')]).findings).toEqual([expect.objectContaining({ check: 'malformed-entry', message: 'unknown outcome "maybe"' })]);
  });

  it('a review decision needs well-formed requirements, and at least one', () => {
    const bad = [
      'not an array',
      7,
      undefined,
      [null],
      [{ ...requirement, ruleId: 7 }],
      [{ ...requirement, approvers: 'group:release' }],
      [{ ...requirement, approvers: ['group:release', 3] }],
      [{ ...requirement, quorum: '1' }],
    ];
    for (const requirements of bad) {
      const g = run([loaded(), submitted(), decided('review', 'a1', { requirements })]);
      expect(g.findings, JSON.stringify(requirements)).toEqual([expect.objectContaining({ check: 'malformed-entry', message: 'a review decision without well-formed requirements' })]);
    }
    const empty = run([loaded(), submitted(), decided('review', 'a1', { requirements: [] }), started(5)]);
    expect(empty.findings).toEqual([
      expect.objectContaining({ check: 'review-without-requirements', message: 'a review decision that requires nothing' }),
      // Nothing approved it, and there is no requirement to report on: the outcome is named.
      expect.objectContaining({ check: 'execution-without-approval', found: 'review', expected: 'every requirement met before execution' }),
    ]);
  });

  it('an execution after a decision of unknown outcome names that outcome', () => {
    const g = run([loaded(), submitted(), decided('maybe'), started(5)]);
    expect(g.findings.map((f) => [f.check, f.found])).toEqual([
      ['malformed-entry', undefined],
      ['execution-without-approval', 'maybe'],
    ]);
  });

  it('an execution of a decide-mode action still under review is named, and is short of approvals', () => {
    const g = run([loaded(), submitted('a1', { mode: 'decide' }), decided('review'), started(5)]);
    expect(g.findings).toEqual([
      expect.objectContaining({ check: 'decide-mode-executed', seq: 3, message: 'the gateway ran a decide-mode action (the agent runs those)' }),
      expect.objectContaining({ check: 'execution-without-approval', found: 'releases: 0 of 1' }),
    ]);
  });

  it('an allow decision in decide mode ends the action: a later execution is decide-mode execution', () => {
    const g = run([loaded(), submitted('a1', { mode: 'decide' }), decided('allow'), started(5)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'decide-mode-executed', seq: 3, message: 'the gateway ran a decide-mode action (the agent runs those)' })]);
  });
});

describe('reviews, escalations, expiries and cancellations', () => {
  it('a review or an escalation of an action that did not need review', () => {
    const g = run([loaded(), submitted(), decided('allow'), reviewed('alice@example.com', 'approve', 3), on('action.escalated', 4, 'a1', { ruleId: 'releases' })]);
    expect(g.findings).toEqual([
      expect.objectContaining({ check: 'review-without-review', message: 'review of an action that did not need review' }),
      expect.objectContaining({ check: 'escalation-without-review', message: 'escalation of an action that did not need review' }),
    ]);
    expect(run([loaded(), submitted(), reviewed('alice@example.com', 'approve', 3)]).findings.map((f) => f.check)).toEqual(['review-without-review']);
  });

  it('a review, escalation, expiry or cancellation after the action was approved', () => {
    const g = run([
      loaded(),
      submitted(),
      decided('review'),
      reviewed('alice@example.com', 'approve', 10),
      reviewed('bob@example.com', 'approve', 11),
      on('action.escalated', 12, 'a1', { ruleId: 'releases' }),
      on('action.expired', 13),
      on('action.cancelled', 14, 'a1', {}, { type: 'agent', id: 'bot' }),
    ]);
    expect(g.findings.map((f) => [f.check, f.message])).toEqual([
      ['review-after-close', 'review after the action was approved (entry 3)'],
      ['escalation-after-close', 'escalation after the action was approved (entry 3)'],
      ['expiry-after-close', 'expiry after the action was approved (entry 3)'],
      ['cancel-after-close', 'cancel after the action was approved (entry 3)'],
    ]);
  });

  it('an entry for an action that ended names how and when it ended', () => {
    const g = run([loaded(), submitted(), decided('review'), on('action.expired', 3600), reviewed('alice@example.com', 'approve', 3601)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'entry-after-end', seq: 4, message: 'action.reviewed after the action was expired (entry 3)' })]);
    const dm = run([loaded(), submitted('a1', { mode: 'decide' }), decided('allow'), on('action.delivered', 4), finished(5)]);
    expect(dm.findings.map((f) => f.message)).toEqual(['execution.finished after the action was decided in decide mode (entry 2)']);
  });

  it('an outcome may be delivered once the action ended, not before', () => {
    expect(run([loaded(), submitted(), decided('deny'), on('action.delivered', 3)]).findings).toEqual([]);
    expect(run([loaded(), submitted(), decided('review'), on('action.delivered', 3)]).findings).toEqual([
      expect.objectContaining({ check: 'delivered-before-outcome', message: 'an outcome was delivered before the action ended' }),
    ]);
  });

  it('an escalation of a rule that has none is named; one of a rule that has one makes its targets eligible', () => {
    const escalating = { ...requirement, escalate: { afterMs: 500, to: ['group:oncall'], at: T(500) } };
    const unknown = run([loaded(), submitted(), decided('review'), on('action.escalated', 600, 'a1', { ruleId: 'releases' })]);
    expect(unknown.findings).toEqual([expect.objectContaining({ check: 'escalation-unknown-rule', message: 'escalation of rule "releases", which has no escalation' })]);
    const carol = (s: number) => ({ ...reviewed('carol@example.com', 'approve', s), data: { reviewer: 'carol@example.com', groups: ['oncall'], verdict: 'approve', fingerprint: FP } });
    const before = run([loaded(), submitted(), decided('review', 'a1', { requirements: [escalating] }), carol(550)]);
    expect(before.findings.map((f) => f.check)).toEqual(['not-eligible']);
    const after = run([loaded(), submitted(), decided('review', 'a1', { requirements: [escalating] }), on('action.escalated', 600, 'a1', { ruleId: 'releases' }), carol(700), started(800), finished(801)]);
    expect(after.findings).toEqual([]);
    // An escalation recorded without its time or delay still parses.
    const bare = run([loaded(), submitted(), decided('review', 'a1', { requirements: [{ ...requirement, escalate: { to: ['group:oncall'] } }] }), on('action.escalated', 600, 'a1', { ruleId: 'releases' }), carol(700)]);
    expect(bare.findings).toEqual([]);
    // Escalation with no targets recorded (null) is no escalation; the rule still parses.
    const nullEscalation = run([loaded(), submitted(), decided('review', 'a1', { requirements: [{ ...requirement, escalate: null }] }), reviewed('alice@example.com', 'approve', 10), started(20), finished(21)]);
    expect(nullEscalation.findings).toEqual([]);
    // The escalation of a rule that is not among the requirements.
    const nowhere = run([loaded(), submitted(), decided('review', 'a1', { requirements: [escalating] }), on('action.escalated', 600, 'a1', { ruleId: 'nope' })]);
    expect(nowhere.findings).toEqual([expect.objectContaining({ check: 'escalation-unknown-rule', message: 'escalation of rule "nope", which has no escalation' })]);
    // The escalation names its rule: the second of two, not the first.
    const plain = { ...requirement, ruleId: 'finance', approvers: ['group:finance'] };
    const second = run([loaded(), submitted(), decided('review', 'a1', { requirements: [plain, escalating] }), on('action.escalated', 600, 'a1', { ruleId: 'releases' })]);
    expect(second.findings).toEqual([]);
    const notTargets = run([loaded(), submitted(), decided('review', 'a1', { requirements: [{ ...requirement, escalate: { afterMs: 5, to: 'group:oncall' } }] }), on('action.escalated', 600, 'a1', { ruleId: 'releases' })]);
    expect(notTargets.findings.map((f) => f.check)).toEqual(['escalation-unknown-rule']);
  });

  it('a review lacking reviewer, verdict or groups is malformed and not counted', () => {
    for (const drop of ['reviewer', 'verdict', 'groups']) {
      const r = reviewed('alice@example.com', 'approve', 10);
      delete r.data[drop];
      const g = run([loaded(), submitted(), decided('review'), r]);
      expect(g.findings, drop).toEqual([expect.objectContaining({ check: 'malformed-entry', message: 'the review lacks its reviewer, verdict or groups' })]);
      expect(g.stats.reviews).toBe(0);
    }
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', { groups: ['release', 7] })]);
    expect(g.findings.map((f) => f.check)).toEqual(['malformed-entry']);
  });

  it('a review by an agent, or recorded for someone else than its actor, never counts', () => {
    const agent = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', {}, { type: 'agent', id: 'other-bot' }), started(20)]);
    expect(agent.findings.map((f) => [f.check, f.message])).toEqual([
      ['agent-reviewed', 'an agent (other-bot) reviewed the action'],
      ['execution-without-approval', 'the action ran without the approvals its requirements need'],
    ]);
    const mismatch = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', {}, { type: 'human', id: 'mallory@example.com' }), started(20)]);
    expect(mismatch.findings[0]).toEqual(
      expect.objectContaining({ check: 'reviewer-mismatch', message: 'the review is recorded for someone else than its actor', expected: 'mallory@example.com', found: 'alice@example.com' }),
    );
    expect(mismatch.findings.map((f) => f.check)).toEqual(['reviewer-mismatch', 'execution-without-approval']);
    // The same person in another case is the same person.
    expect(run([loaded(), submitted(), decided('review'), reviewed('Alice@Example.com', 'approve', 10, 'a1', {}, { type: 'human', id: 'alice@example.com' })]).findings).toEqual([]);
    // A review with no actor recorded is judged on its reviewer.
    const { actor: _dropped, ...unattributed } = reviewed('alice@example.com', 'approve', 10);
    expect(run([loaded(), submitted(), decided('review'), unattributed, started(20), finished(21)]).findings).toEqual([]);
  });

  it('self-approval, a second review by the same human, and an ineligible reviewer are named', () => {
    const self = run([loaded(), submitted(), decided('review'), reviewed('olga@example.com', 'approve', 10)]);
    expect(self.findings[0]).toEqual(expect.objectContaining({ check: 'self-approval', message: "olga@example.com reviewed an action they are a party to (requester, onBehalfOf or the agent's owner)" }));
    const twice = run([loaded(), submitted(), decided('review', 'a1', { requirements: [{ ...requirement, quorum: 2 }] }), reviewed('alice@example.com', 'approve', 10), reviewed('alice@example.com', 'approve', 11)]);
    expect(twice.findings).toEqual([expect.objectContaining({ check: 'reviewed-twice', message: 'alice@example.com already reviewed this action' })]);
    const eve = run([loaded(), submitted(), decided('review'), { ...reviewed('eve@example.com', 'approve', 10), data: { reviewer: 'eve@example.com', groups: ['marketing'], verdict: 'approve', fingerprint: FP } }]);
    expect(eve.findings).toEqual([expect.objectContaining({ check: 'not-eligible', message: "eve@example.com is named by none of the action's requirements" })]);
  });

  it('a review at the expiry instant is late; a millisecond before is not', () => {
    const late = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 3600)]);
    expect(late.findings).toEqual([expect.objectContaining({ check: 'review-after-expiry', message: 'the review came after the action expired', expected: `before ${T(3600)}`, found: T(3600) })]);
    const justInTime = reviewed('alice@example.com', 'approve', 0);
    justInTime.ts = new Date(Date.parse(T(3600)) - 1).toISOString();
    expect(run([loaded(), submitted(), decided('review'), justInTime]).findings).toEqual([]);
    // A decision without an expiry has no deadline.
    const d = decided('review');
    delete d.data.expiresAt;
    expect(run([loaded(), submitted(), d, reviewed('alice@example.com', 'approve', 99_999)]).findings).toEqual([]);
  });

  it('an approval of another fingerprint is named with both; a denial carries none and is fine', () => {
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', { fingerprint: OTHER_FP })]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'fingerprint-mismatch', message: 'the approval is for another fingerprint than the decided one', expected: FP, found: OTHER_FP })]);
    const missing = run([loaded(), submitted(), decided('review'), { ...reviewed('alice@example.com', 'approve', 10), data: { reviewer: 'alice@example.com', groups: ['release'], verdict: 'approve' } }]);
    expect(missing.findings[0]).toEqual(expect.objectContaining({ check: 'fingerprint-mismatch', found: 'undefined' }));
  });

  it('a denial ends the action: what follows is after its end', () => {
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'deny', 10), started(20)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'execution-after-close', message: 'the action ran after it was denied (entry 3)' })]);
  });

  it('an outcome recorded on a review must be the one its reviews give', () => {
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', { outcome: 'pending' })]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'review-outcome-mismatch', message: 'the entry records another outcome than its reviews give', expected: 'approved', found: 'pending' })]);
    expect(run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10, 'a1', { outcome: 'approved' })]).findings).toEqual([]);
  });

  it('an approval in decide mode ends the action', () => {
    const g = run([loaded(), submitted('a1', { mode: 'decide' }), decided('review'), reviewed('alice@example.com', 'approve', 10), reviewed('bob@example.com', 'approve', 11)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'entry-after-end', message: 'action.reviewed after the action was decided in decide mode (entry 3)' })]);
  });

  it('only the requester cancels; a cancellation recorded without actor is judged on nothing more', () => {
    const other = run([loaded(), submitted(), decided('review'), on('action.cancelled', 5, 'a1', {}, { type: 'human', id: 'mallory@example.com' })]);
    expect(other.findings).toEqual([expect.objectContaining({ check: 'cancel-by-other', message: 'the action was cancelled by someone else than its requester', expected: 'bot', found: 'mallory@example.com' })]);
    expect(run([loaded(), submitted(), decided('review'), on('action.cancelled', 5, 'a1', {}, { type: 'agent', id: 'bot' })]).findings).toEqual([]);
    const { actor: _none, ...unattributed } = on('action.cancelled', 5);
    expect(run([loaded(), submitted(), decided('review'), unattributed]).findings).toEqual([]);
    // An expiry by the system is not a cancellation by someone else.
    expect(run([loaded(), submitted(), decided('review'), on('action.expired', 3600)]).findings).toEqual([]);
    // Both end the action.
    expect(run([loaded(), submitted(), decided('review'), on('action.cancelled', 5, 'a1', {}, { type: 'agent', id: 'bot' }), started(6)]).findings.map((f) => f.message)).toEqual(['the action ran after it was cancelled (entry 3)']);
  });
});

describe('executions', () => {
  it('an execution with no submission or no decision', () => {
    expect(run([loaded(), started(5)]).findings).toEqual([expect.objectContaining({ check: 'execution-without-decision', message: 'an execution of an action with no recorded submission and decision' })]);
    const g = run([loaded(), submitted(), started(5)]);
    expect(g.findings.map((f) => f.check)).toEqual(['execution-without-decision']);
    expect(g.stats.executions).toBe(1);
  });

  it('an execution started twice, before it finished', () => {
    const g = run([loaded(), submitted(), decided('allow'), started(5), started(6)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'executed-twice', seq: 4, message: 'the action already started at entry 3: execution is at most once' })]);
  });

  it('an execution that finished without starting', () => {
    const g = run([loaded(), submitted(), decided('allow'), finished(5)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'finished-without-start', message: 'an execution finished that never started' })]);
    const known = new GovernanceChecker();
    [loaded(), submitted(), decided('allow'), started(5)].forEach((e, seq) => known.add({ seq, ...e }));
    known.finished(4, 'a1');
    known.add({ seq: 5, ...started(6) });
    // Known from its bytes alone, the finished entry ends the action: the second start is after the end.
    expect(known.findings.map((f) => [f.check, f.seq, f.message])).toEqual([['executed-twice', 5, 'the action already ran (finished at entry 4): execution is at most once']]);
  });

  it('an execution of another fingerprint names both', () => {
    const g = run([loaded(), submitted(), decided('allow'), started(5, 'a1', OTHER_FP)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'fingerprint-mismatch', message: 'the execution is for another fingerprint than the decided one', expected: FP, found: OTHER_FP })]);
  });

  it('an approval dated after the execution started is named; one at the same instant is not', () => {
    const g = run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10), started(9)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'approval-after-execution', message: 'the approval is dated after the execution started', expected: `at or before ${T(9)}`, found: T(10) })]);
    expect(run([loaded(), submitted(), decided('review'), reviewed('alice@example.com', 'approve', 10), started(10)]).findings).toEqual([]);
  });

  it('an execution short of approvals says how many of each requirement it had', () => {
    const two = { ...requirement, quorum: 2 };
    const second = { ...requirement, ruleId: 'finance', approvers: ['group:finance'], quorum: 1 };
    const g = run([loaded(), submitted(), decided('review', 'a1', { requirements: [two, second] }), reviewed('alice@example.com', 'approve', 10), started(20)]);
    expect(g.findings).toEqual([expect.objectContaining({ check: 'execution-without-approval', found: 'releases: 1 of 2, finance: 0 of 1' })]);
  });
});
