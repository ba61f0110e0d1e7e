import { describe, expect, it } from 'vitest';
import { fingerprintOf } from './action.js';
import type { ActionRequest } from './action.js';
import type { ActionPreview, ActionRecord, Requester } from './action-record.js';
import type { AppError } from './errors.js';
import type { Principal } from './identity.js';
import {
  MASKED_PARAM,
  applyReview,
  cancelAction,
  createAction,
  escalateAction,
  expireAction,
  finishExecution,
  interruptExecution,
  isExpired,
  partiesOf,
  runnerIsGone,
  startExecution,
} from './lifecycle.js';
import type { Decision } from './policy-types.js';

// The edges of the lifecycle the mutation campaign (docs/reliability.md) found untested:
// what each record and audit entry holds exactly, every refusal's code, message and
// details, and the boundaries of expiry, escalation and leases.

const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);
const iso = (ms: number) => at(ms).toISOString();
const MIN = 60_000;
const agent: Principal = { type: 'agent', id: 'deploy-bot', owner: 'carol@example.com', labels: {} };
const requester: Requester = { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com' };
const alice: Principal = { type: 'human', id: 'alice@example.com', groups: ['release', 'ops'] };
const bob: Principal = { type: 'human', id: 'bob@example.com', groups: ['release'] };
const zoe: Principal = { type: 'human', id: 'zoe@example.com', groups: [] };
const runner = { host: 'h', pid: 1, instance: 'i', leaseUntil: iso(2 * MIN) };

const allow: Decision = { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:p', reason: 'allowed by reads', requirements: [] };
const deny: Decision = { outcome: 'deny', rules: ['no-deletes'], policyVersion: 'sha256:p', reason: 'denied by no-deletes', requirements: [] };
function reviewOf(...requirements: Decision['requirements']): Decision {
  return { outcome: 'review', rules: requirements.map((q) => q.ruleId), policyVersion: 'sha256:p', reason: 'held', requirements };
}
const releases: Decision['requirements'][number] = { ruleId: 'releases', approvers: ['group:release'], quorum: 1, timeoutMs: 30 * MIN };
const quorumTwo = reviewOf({ ...releases, quorum: 2 });

const httpRequest: ActionRequest = { kind: 'http', target: 'github', input: { method: 'POST', path: '/r' } };

function make(decision: Decision, request: ActionRequest = httpRequest, extra: Partial<Parameters<typeof createAction>[0]> = {}) {
  return createAction({ id: 'act_1', request, requester, decision, now: t0, ...extra });
}

function errorOf(fn: () => unknown): { code?: string; message: string; details?: unknown } | 'OK' {
  try {
    fn();
    return 'OK';
  } catch (e) {
    const err = e as AppError;
    return { code: err.code, message: err.message, details: err.details };
  }
}

describe('createAction', () => {
  it('an allowed action is recorded exactly: approved, execute mode by default, version 1, no review', () => {
    const t = make(allow);
    expect(t.next).toStrictEqual({
      id: 'act_1',
      kind: 'http',
      target: 'github',
      input: { method: 'POST', path: '/r' },
      mode: 'execute',
      requester,
      fingerprint: fingerprintOf({ kind: 'http', target: 'github', input: { method: 'POST', path: '/r' }, requester: 'deploy-bot' }),
      status: 'approved',
      decision: { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:p', reason: 'allowed by reads' },
      createdAt: iso(0),
      updatedAt: iso(0),
      version: 1,
    });
  });

  it('a denied action starts denied; a decide-mode request keeps its mode', () => {
    expect(make(deny).next.status).toBe('denied');
    expect(make(allow, { ...httpRequest, mode: 'decide' }).next.mode).toBe('decide');
  });

  it('the fingerprint binds the requester: the same request from another agent has another one', () => {
    const mine = make(allow).next.fingerprint;
    const theirs = createAction({ id: 'act_2', request: httpRequest, requester: { id: 'other-bot', type: 'agent' }, decision: allow, now: t0 }).next.fingerprint;
    expect(theirs).not.toBe(mine);
    expect(mine).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('the submitted and decided entries hold exactly what was asked and decided, by the requester and by the gateway', () => {
    const t = make(allow);
    const fingerprint = t.next.fingerprint;
    expect(t.audit).toStrictEqual([
      {
        type: 'action.submitted',
        ts: iso(0),
        actionId: 'act_1',
        actor: { type: 'agent', id: 'deploy-bot' },
        data: { kind: 'http', target: 'github', input: { method: 'POST', path: '/r' }, mode: 'execute', fingerprint, requester: { id: 'deploy-bot', type: 'agent', owner: 'carol@example.com' } },
      },
      {
        type: 'action.decided',
        ts: iso(0),
        actionId: 'act_1',
        actor: { type: 'system', id: 'countersign' },
        data: { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:p', reason: 'allowed by reads', fingerprint },
      },
    ]);
  });

  it('what the request and the gateway add besides (justification, context, on behalf of, key, facts, preview, shadow, grant) lands in the record and the entries', () => {
    const shadow = { rules: ['strict'], outcome: 'deny' as const, disagrees: true };
    const grant = { id: 'grt_1', use: 2, policyOutcome: 'review' as const };
    const preview: ActionPreview = { mode: 'rollback', status: 'ok', statements: [], summary: { rows: [3] }, tookMs: 5 };
    const facts = { sql: { tables: ['orders'] } } as unknown as ActionRecord['facts'];
    const t = make(
      { ...allow, shadow, grant },
      { ...httpRequest, justification: 'release 1.2', context: { ticket: 'T-1' }, onBehalfOf: 'dana@example.com' },
      { idempotencyKey: 'k-1', facts, preview: { preview, drift: { kind: 'absolute', value: 2 } } },
    );
    expect(t.next).toMatchObject({
      justification: 'release 1.2',
      context: { ticket: 'T-1' },
      onBehalfOf: 'dana@example.com',
      idempotencyKey: 'k-1',
      facts,
      preview,
      drift: { kind: 'absolute', value: 2 },
      decision: { outcome: 'allow', rules: ['reads'], policyVersion: 'sha256:p', reason: 'allowed by reads', shadow, grant },
    });
    expect(t.audit[0]!.data).toMatchObject({ onBehalfOf: 'dana@example.com', justification: 'release 1.2', context: { ticket: 'T-1' } });
    expect(t.audit[1]!.data).toStrictEqual({
      outcome: 'allow',
      rules: ['reads'],
      policyVersion: 'sha256:p',
      reason: 'allowed by reads',
      fingerprint: t.next.fingerprint,
      shadow,
      grant,
      preview: { mode: 'rollback', status: 'ok', summary: { rows: [3] } },
      drift: { kind: 'absolute', value: 2 },
    });
  });

  it('a preview without a drift tolerance records no drift; a failed preview keeps its reason in the log', () => {
    const preview = { mode: 'rollback', status: 'failed', reason: 'syntax error', statements: [], summary: { rows: [] }, tookMs: 1 } as unknown as ActionPreview;
    const t = make(allow, httpRequest, { preview: { preview } });
    expect(t.next.preview).toBe(preview);
    expect('drift' in t.next).toBe(false);
    expect(t.audit[1]!.data).toStrictEqual({
      outcome: 'allow',
      rules: ['reads'],
      policyVersion: 'sha256:p',
      reason: 'allowed by reads',
      fingerprint: t.next.fingerprint,
      preview: { mode: 'rollback', status: 'failed', reason: 'syntax error', summary: { rows: [] } },
    });
  });

  it('a command preview is logged by its exit code and output hash, never its output', () => {
    const preview: ActionPreview = { mode: 'command', status: 'failed', reason: 'exit 2', argv: ['ls'], exitCode: 2, stdout: 'secret rows', stderr: 'oops', truncated: false, outputHash: 'sha256:ab', tookMs: 3 };
    const t = make(allow, { kind: 'command', target: 'box', input: { argv: ['ls'] } }, { preview: { preview } });
    expect(t.audit[1]!.data.preview).toStrictEqual({ mode: 'command', status: 'failed', reason: 'exit 2', exitCode: 2, outputHash: 'sha256:ab' });
    const quiet = make(allow, { kind: 'command', target: 'box', input: { argv: ['ls'] } }, { preview: { preview: { ...preview, status: 'ok', reason: undefined } as ActionPreview } });
    expect(quiet.audit[1]!.data.preview).toStrictEqual({ mode: 'command', status: 'ok', exitCode: 2, outputHash: 'sha256:ab' });
    expect(JSON.stringify(t.audit)).not.toContain('secret rows');
  });

  it('a held action keeps each requirement, its grants and its escalation (due afterMs from now, not done), and lives as long as its shortest timeout', () => {
    const grants = { maxTtlMs: MIN, maxUses: 3, scope: ['http.path'] };
    const t = make(
      reviewOf(
        { ruleId: 'slow', approvers: ['group:release'], quorum: 1, timeoutMs: 60 * MIN, grants },
        { ruleId: 'fast', approvers: ['group:ops'], quorum: 2, timeoutMs: 20 * MIN, escalate: { afterMs: 5 * MIN, to: ['group:oncall'] } },
      ),
    );
    expect(t.next.status).toBe('pending');
    expect(t.next.review).toStrictEqual({
      requirements: [
        { ruleId: 'slow', approvers: ['group:release'], quorum: 1, timeoutMs: 60 * MIN, grants },
        { ruleId: 'fast', approvers: ['group:ops'], quorum: 2, timeoutMs: 20 * MIN, escalate: { afterMs: 5 * MIN, to: ['group:oncall'], at: iso(5 * MIN), done: false } },
      ],
      reviews: [],
      expiresAt: iso(20 * MIN),
    });
    expect(t.next.nextEscalationAt).toBe(iso(5 * MIN));
    expect(t.audit[1]!.data).toMatchObject({ outcome: 'review', requirements: t.next.review!.requirements, expiresAt: iso(20 * MIN) });
  });

  it('a held action without escalations has no next escalation; with several, the earliest is next', () => {
    expect('nextEscalationAt' in make(reviewOf(releases)).next).toBe(false);
    const t = make(
      reviewOf(
        { ...releases, ruleId: 'late', escalate: { afterMs: 9 * MIN, to: ['group:oncall'] } },
        { ...releases, ruleId: 'early', escalate: { afterMs: 3 * MIN, to: ['group:oncall'] } },
      ),
    );
    expect(t.next.nextEscalationAt).toBe(iso(3 * MIN));
  });

  it('an allowed action\'s decided entry names no requirements nor expiry', () => {
    const data = make(allow).audit[1]!.data;
    expect('requirements' in data).toBe(false);
    expect('expiresAt' in data).toBe(false);
  });
});

describe('the audit copy of the input', () => {
  const sql: ActionRequest = { kind: 'sql', target: 'db', input: { sql: 'select $1', params: ['alice', 42] } };

  it('a target that masks params logs every sql param as the mask; the record keeps them', () => {
    expect(MASKED_PARAM).toBe('[MASKED]');
    const t = make(allow, sql, { maskParams: true });
    expect(t.audit[0]!.data.input).toStrictEqual({ sql: 'select $1', params: ['[MASKED]', '[MASKED]'] });
    expect(t.next.input).toStrictEqual({ sql: 'select $1', params: ['alice', 42] });
  });

  it('without maskParams, or without a params list, or on another kind, nothing is masked', () => {
    expect(make(allow, sql).audit[0]!.data.input).toStrictEqual(sql.input);
    expect(make(allow, sql, { maskParams: false }).audit[0]!.data.input).toStrictEqual(sql.input);
    const noList = { kind: 'sql', target: 'db', input: { sql: 'select 1', params: 'x' } } as ActionRequest;
    expect(make(allow, noList, { maskParams: true }).audit[0]!.data.input).toStrictEqual({ sql: 'select 1', params: 'x' });
    const other = { kind: 'mcp', target: 'm', input: { tool: 't', params: ['alice'] } } as ActionRequest;
    expect(make(allow, other, { maskParams: true }).audit[0]!.data.input).toStrictEqual({ tool: 't', params: ['alice'] });
  });

  it('only an http action\'s header object is redacted: other kinds, missing or non-object headers are logged as they are', () => {
    const token = 'Bearer s3cr3t-token-value';
    expect(make(allow, { ...httpRequest, input: { method: 'GET', path: '/', headers: { Authorization: token, Accept: 'x' } } }).audit[0]!.data.input).toStrictEqual({
      method: 'GET',
      path: '/',
      headers: { Authorization: '[REDACTED]', Accept: 'x' },
    });
    const mcp = { kind: 'mcp', target: 'm', input: { tool: 't', headers: { Authorization: token } } } as ActionRequest;
    expect(make(allow, mcp).audit[0]!.data.input).toStrictEqual({ tool: 't', headers: { Authorization: token } });
    expect(make(allow, httpRequest).audit[0]!.data.input).toStrictEqual({ method: 'POST', path: '/r' });
    const odd = { ...httpRequest, input: { method: 'GET', path: '/', headers: 'x' } } as ActionRequest;
    expect(make(allow, odd).audit[0]!.data.input).toStrictEqual({ method: 'GET', path: '/', headers: 'x' });
  });
});

describe('applyReview', () => {
  it('an action that never needed review: an agent is told agents cannot review, a human that nobody is eligible', () => {
    const a = make(allow).next;
    expect(errorOf(() => applyReview(a, agent, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(1) }))).toMatchObject({ code: 'AGENT_CANNOT_REVIEW' });
    expect(errorOf(() => applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(1) }))).toStrictEqual({
      code: 'NOT_ELIGIBLE',
      message: 'Not an eligible reviewer: this action did not need review',
      details: undefined,
    });
  });

  it('the agent\'s owner and the human it acts for cannot review (the parties come from the record)', () => {
    const owner: Principal = { type: 'human', id: 'carol@example.com', groups: ['release'] };
    const dana: Principal = { type: 'human', id: 'dana@example.com', groups: ['release'] };
    const a = make(reviewOf(releases), { ...httpRequest, onBehalfOf: 'dana@example.com' }).next;
    expect(partiesOf(a)).toStrictEqual({ requester: 'deploy-bot', owner: 'carol@example.com', onBehalfOf: 'dana@example.com' });
    expect(errorOf(() => applyReview(a, owner, 'deny', { via: 'api', now: at(1) }))).toMatchObject({ code: 'SELF_APPROVAL' });
    expect(errorOf(() => applyReview(a, dana, 'deny', { via: 'api', now: at(1) }))).toMatchObject({ code: 'SELF_APPROVAL' });
  });

  it('a mismatched approval names the stored fingerprint; a denial needs none', () => {
    const a = make(reviewOf(releases)).next;
    expect(errorOf(() => applyReview(a, alice, 'approve', { fingerprint: 'sha256:00', via: 'api', now: at(1) }))).toStrictEqual({
      code: 'FINGERPRINT_MISMATCH',
      message: 'The fingerprint does not match the stored action: re-read the action before approving',
      details: { expected: a.fingerprint },
    });
    expect(applyReview(a, alice, 'deny', { via: 'api', now: at(1) }).next.status).toBe('denied');
  });

  it('a pending approval is recorded exactly (reviewer, groups then, verdict, channel, time, rules, fingerprint, comment) and bumps the version', () => {
    const a = make(quorumTwo).next;
    const t = applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, comment: 'ok', via: 'slack', now: at(7) });
    const review = { reviewer: 'alice@example.com', groups: ['release', 'ops'], verdict: 'approve', via: 'slack', at: iso(7), countsFor: ['releases'], fingerprint: a.fingerprint, comment: 'ok' };
    expect(t.next).toStrictEqual({ ...a, review: { ...a.review!, reviews: [review] }, updatedAt: iso(7), version: 2 });
    expect(t.audit).toStrictEqual([{ type: 'action.reviewed', ts: iso(7), actionId: 'act_1', actor: { type: 'human', id: 'alice@example.com' }, data: { ...review, outcome: 'pending' } }]);
  });

  it('a denial carries no fingerprint and no comment when none was given; it closes the action and its escalation', () => {
    const a = make(reviewOf({ ...releases, escalate: { afterMs: 5 * MIN, to: ['group:oncall'] } })).next;
    expect(a.nextEscalationAt).toBe(iso(5 * MIN));
    const t = applyReview(a, bob, 'deny', { via: 'api', now: at(3) });
    expect(t.next.review!.reviews[0]).toStrictEqual({ reviewer: 'bob@example.com', groups: ['release'], verdict: 'deny', via: 'api', at: iso(3), countsFor: ['releases'] });
    expect(t.next).toMatchObject({ status: 'denied', updatedAt: iso(3), version: 2 });
    expect('nextEscalationAt' in t.next).toBe(false);
    expect(t.audit[0]!.data).toMatchObject({ verdict: 'deny', outcome: 'denied' });
  });

  it('a pending review keeps the next escalation', () => {
    const a = make({ ...reviewOf({ ...releases, quorum: 2, escalate: { afterMs: 5 * MIN, to: ['group:oncall'] } }) }).next;
    expect(applyReview(a, bob, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(3) }).next.nextEscalationAt).toBe(iso(5 * MIN));
  });

  it('a review of an approved action is refused as not pending, before anything is counted', () => {
    const a = make(reviewOf(releases)).next;
    const approved = applyReview(a, alice, 'approve', { fingerprint: a.fingerprint, via: 'api', now: at(1) }).next;
    expect(approved.status).toBe('approved');
    expect(errorOf(() => applyReview(approved, bob, 'deny', { via: 'api', now: at(2) }))).toStrictEqual({ code: 'NOT_PENDING', message: 'The action is not pending review', details: undefined });
  });
});

describe('cancel, expire, escalate', () => {
  it('a human who shares the agent requester\'s id is not the requester', () => {
    const a = make(reviewOf(releases)).next;
    const lookalike: Principal = { type: 'human', id: 'deploy-bot', groups: [] };
    expect(errorOf(() => cancelAction(a, lookalike, at(1)))).toStrictEqual({ code: 'NOT_REQUESTER', message: 'Only the requester can cancel this action', details: undefined });
  });

  it('another agent cannot cancel the action', () => {
    const a = make(reviewOf(releases)).next;
    const other: Principal = { type: 'agent', id: 'other-bot', owner: 'carol@example.com', labels: {} };
    expect(errorOf(() => cancelAction(a, other, at(1)))).toMatchObject({ code: 'NOT_REQUESTER' });
  });

  it('cancelling an action that is not pending says its status', () => {
    const a = make(allow).next;
    expect(errorOf(() => cancelAction(a, agent, at(1)))).toStrictEqual({ code: 'NOT_PENDING', message: 'The action is approved; only pending actions can be cancelled', details: { status: 'approved' } });
  });

  it('a cancellation bumps the version, drops the next escalation and is recorded by the requester', () => {
    const a = make(reviewOf({ ...releases, escalate: { afterMs: 5 * MIN, to: ['group:oncall'] } })).next;
    const t = cancelAction(a, agent, at(4));
    expect(t.next).toMatchObject({ status: 'cancelled', updatedAt: iso(4), version: 2 });
    expect('nextEscalationAt' in t.next).toBe(false);
    expect(t.audit).toStrictEqual([{ type: 'action.cancelled', ts: iso(4), actionId: 'act_1', actor: { type: 'agent', id: 'deploy-bot' }, data: {} }]);
  });

  it('expiry is due exactly at expiresAt, only for a pending action with a review', () => {
    const a = make(reviewOf(releases)).next;
    expect(isExpired(a, at(30 * MIN - 1))).toBe(false);
    expect(isExpired(a, at(30 * MIN))).toBe(true);
    expect(isExpired({ ...a, status: 'approved' }, at(31 * MIN))).toBe(false);
    const allowed = make(allow).next;
    expect(errorOf(() => expireAction({ ...allowed, status: 'pending' }, at(31 * MIN)))).toMatchObject({ code: 'NOT_PENDING' });
    expect(errorOf(() => expireAction(a, at(1)))).toStrictEqual({ code: 'NOT_PENDING', message: 'not due to expire', details: { status: 'pending' } });
  });

  it('an expiry bumps the version, drops the next escalation and records when the action was due', () => {
    const a = make(reviewOf({ ...releases, escalate: { afterMs: 40 * MIN, to: ['group:oncall'] } })).next;
    expect(a.nextEscalationAt).toBe(iso(40 * MIN));
    const t = expireAction(a, at(31 * MIN));
    expect(t.next).toMatchObject({ status: 'expired', updatedAt: iso(31 * MIN), version: 2 });
    expect('nextEscalationAt' in t.next).toBe(false);
    expect(t.audit).toStrictEqual([{ type: 'action.expired', ts: iso(31 * MIN), actionId: 'act_1', actor: { type: 'system', id: 'countersign' }, data: { expiresAt: iso(30 * MIN) } }]);
  });

  it('only a pending action with a review escalates', () => {
    const allowed = make(allow).next;
    expect(errorOf(() => escalateAction(allowed, at(1)))).toStrictEqual({ code: 'NOT_PENDING', message: 'not pending', details: { status: 'approved' } });
    expect(errorOf(() => escalateAction({ ...allowed, status: 'pending' }, at(1)))).toMatchObject({ code: 'NOT_PENDING' });
    const held = make(reviewOf({ ...releases, escalate: { afterMs: 5 * MIN, to: ['group:oncall'] } })).next;
    const approved = applyReview(held, alice, 'approve', { fingerprint: held.fingerprint, via: 'api', now: at(1) }).next;
    expect(errorOf(() => escalateAction(approved, at(5 * MIN)))).toStrictEqual({ code: 'NOT_PENDING', message: 'not pending', details: { status: 'approved' } });
  });

  it('escalations are done one at a time as each falls due; the next one stays scheduled; a done one is not done again', () => {
    const a = make(
      reviewOf(
        releases,
        { ...releases, ruleId: 'early', escalate: { afterMs: 3 * MIN, to: ['group:oncall'] } },
        { ...releases, ruleId: 'late', escalate: { afterMs: 9 * MIN, to: ['user:zoe@example.com'] } },
      ),
    ).next;
    const before = escalateAction(a, at(3 * MIN - 1));
    expect(before.escalated).toEqual([]);
    expect(before.audit).toEqual([]);
    expect(before.next.nextEscalationAt).toBe(iso(3 * MIN));

    const first = escalateAction(a, at(3 * MIN));
    expect(first.escalated.map((q) => q.ruleId)).toEqual(['early']);
    expect(first.next.review!.requirements.map((q) => q.escalate?.done)).toEqual([undefined, true, false]);
    expect(first.next).toMatchObject({ updatedAt: iso(3 * MIN), version: 2, nextEscalationAt: iso(9 * MIN) });
    expect(first.audit).toStrictEqual([{ type: 'action.escalated', ts: iso(3 * MIN), actionId: 'act_1', actor: { type: 'system', id: 'countersign' }, data: { ruleId: 'early', to: ['group:oncall'] } }]);

    const again = escalateAction(first.next, at(4 * MIN));
    expect(again.escalated).toEqual([]);
    expect(again.next.nextEscalationAt).toBe(iso(9 * MIN));

    const second = escalateAction(first.next, at(9 * MIN));
    expect(second.escalated.map((q) => q.ruleId)).toEqual(['late']);
    expect('nextEscalationAt' in second.next).toBe(false);
    expect(errorOf(() => applyReview(first.next, zoe, 'deny', { via: 'api', now: at(4 * MIN) }))).toMatchObject({ code: 'NOT_ELIGIBLE' });
    expect(applyReview(second.next, zoe, 'deny', { via: 'api', now: at(9 * MIN) }).next.review!.reviews[0]!.countsFor).toEqual(['late']);
  });
});

describe('execution', () => {
  it('starting a decide-mode action or one that is not approved says why', () => {
    expect(errorOf(() => startExecution(make(allow, { ...httpRequest, mode: 'decide' }).next, at(1), runner))).toStrictEqual({
      code: 'NOT_PENDING',
      message: 'decide-mode actions are run by the agent, not the gateway',
      details: undefined,
    });
    expect(errorOf(() => startExecution(make(deny).next, at(1), runner))).toStrictEqual({ code: 'NOT_PENDING', message: 'The action is denied, not approved', details: { status: 'denied' } });
  });

  it('a start records the runner and the start time before the executor is called, and binds the fingerprint in the log', () => {
    const a = make(allow).next;
    const t = startExecution(a, at(5), runner);
    expect(t.next).toStrictEqual({ ...a, status: 'running', updatedAt: iso(5), version: 2, result: { ok: false, startedAt: iso(5), runner } });
    expect(t.audit).toStrictEqual([{ type: 'execution.started', ts: iso(5), actionId: 'act_1', actor: { type: 'system', id: 'countersign' }, data: { fingerprint: a.fingerprint } }]);
  });

  it('finishing an action that is not running is refused, naming both statuses', () => {
    const a = make(allow).next;
    expect(errorOf(() => finishExecution(a, { ok: true }, at(2)))).toStrictEqual({ code: 'NOT_PENDING', message: 'cannot move from approved to succeeded', details: { status: 'approved' } });
  });

  it('a finished result keeps its start time (or the finish time when none was recorded) and logs a summary of what came back', () => {
    const running = startExecution(make(allow).next, at(1), runner).next;
    const t = finishExecution(running, { ok: false, status: 503, reason: 'upstream', error: { code: 'TARGET_ERROR', message: 'm' }, body: { statements: [{ rowCount: 1 }] } }, at(9));
    expect(t.next).toMatchObject({ status: 'failed', updatedAt: iso(9), version: 3 });
    expect(t.next.result).toStrictEqual({ ok: false, status: 503, reason: 'upstream', error: { code: 'TARGET_ERROR', message: 'm' }, body: { statements: [{ rowCount: 1 }] }, startedAt: iso(1), finishedAt: iso(9) });
    // An http action's body is not summarised as sql or a command.
    expect(t.audit).toStrictEqual([
      { type: 'execution.finished', ts: iso(9), actionId: 'act_1', actor: { type: 'system', id: 'countersign' }, data: { outcome: 'failed', ok: false, status: 503, reason: 'upstream', error: { code: 'TARGET_ERROR', message: 'm' } } },
    ]);
    const { result: _dropped, ...noResult } = running;
    expect(finishExecution(noResult as ActionRecord, { ok: true }, at(9)).next.result).toStrictEqual({ ok: true, startedAt: iso(9), finishedAt: iso(9) });
    expect(finishExecution(running, { ok: true }, at(9)).audit[0]!.data).toStrictEqual({ outcome: 'succeeded', ok: true });
  });

  it('a sql result is logged by its row counts, a command result by where it ran and its sizes, never their contents', () => {
    const sqlRun = startExecution(make(allow, { kind: 'sql', target: 'db', input: { sql: 'select 1' } }).next, at(1), runner).next;
    const body = { statements: [{ rowCount: 2, rows: [{ secret: 'row-data' }] }], ranOn: 'local', stdout: 'abc' };
    expect(finishExecution(sqlRun, { ok: true, body }, at(2)).audit[0]!.data).toStrictEqual({ outcome: 'succeeded', ok: true, rows: [2] });
    const cmdRun = startExecution(make(allow, { kind: 'command', target: 'box', input: { argv: ['ls'] } }).next, at(1), runner).next;
    expect(finishExecution(cmdRun, { ok: true, exitCode: 0, body }, at(2)).audit[0]!.data).toStrictEqual({ outcome: 'succeeded', ok: true, exitCode: 0, ranOn: 'local', stdoutBytes: 3 });
  });

  it('an interrupted execution fails with the INTERRUPTED error and is never re-run', () => {
    const running = startExecution(make(allow).next, at(1), runner).next;
    expect(interruptExecution(running, at(2)).next.result).toStrictEqual({
      ok: false,
      reason: 'interrupted',
      error: { code: 'INTERRUPTED', message: 'The gateway stopped while this action was running; it was not re-run' },
      startedAt: iso(1),
      finishedAt: iso(2),
    });
  });

  it('a running action without a runner is gone; a lease is gone from the moment it ends', () => {
    const here = { host: 'h', pid: 2, instance: 'j', isAlive: () => true };
    const running = startExecution(make(allow).next, at(1), runner).next;
    expect(runnerIsGone({ ...running, result: { ok: false, startedAt: iso(1) } }, at(2), here)).toBe(true);
    expect(runnerIsGone({ ...running, result: undefined }, at(2), here)).toBe(true);
    expect(runnerIsGone(running, at(2 * MIN - 1), here)).toBe(false);
    expect(runnerIsGone(running, at(2 * MIN), here)).toBe(true);
  });
});
