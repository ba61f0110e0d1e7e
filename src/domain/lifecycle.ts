import type { ActionRequest } from './action.js';
import { fingerprintOf } from './action.js';
import type { ActionPreview, ActionRecord, ExecutionResult, Requester, Runner } from './action-record.js';
import type { AuditActor, AuditDraft } from './audit-entry.js';
import { AppError } from './errors.js';
import type { Principal } from './identity.js';
import type { Decision } from './policy-types.js';
import type { DriftTolerance } from './sql-preview.js';
import { redactHeaders } from './redact.js';
import type { Parties, Requirement, Verdict } from './review.js';
import { checkReviewer, reviewOutcome } from './review.js';
import type { Status } from './status.js';
import { canTransition, unreachable } from './status.js';
import { sqlResultSummary } from './sql-result-summary.js';
import { commandResultSummary } from './command-result.js';

/** A state change and the audit entries that must commit with it. */
export interface Transition {
  next: ActionRecord;
  audit: AuditDraft[];
}

export function partiesOf(a: ActionRecord): Parties {
  return { requester: a.requester.id, owner: a.requester.owner, onBehalfOf: a.onBehalfOf };
}

function actorOf(p: Principal): AuditActor {
  return { type: p.type, id: p.id };
}

const SYSTEM: AuditActor = { type: 'system', id: 'countersign' };

function move(a: ActionRecord, to: Status, now: string, patch: Partial<ActionRecord> = {}): ActionRecord {
  if (!canTransition(a.status, to)) throw new AppError('NOT_PENDING', `cannot move from ${a.status} to ${to}`, { status: a.status });
  return { ...a, ...patch, status: to, updatedAt: now, version: a.version + 1 };
}

/** What a sql param is replaced with in the audit log when the target masks params (`maskParams`). */
export const MASKED_PARAM = '[MASKED]';

/**
 * The audit copy of an input: agent-supplied credential headers are never logged, nor
 * are the params of a sql action on a target that masks them (`maskParams: true`).
 */
function auditInput(a: { kind: string; input: Record<string, unknown> }, maskParams: boolean): Record<string, unknown> {
  if (a.kind === 'sql' && maskParams && Array.isArray(a.input.params)) return { ...a.input, params: a.input.params.map(() => MASKED_PARAM) };
  if (a.kind !== 'http' || !a.input.headers || typeof a.input.headers !== 'object') return a.input;
  return { ...a.input, headers: redactHeaders(a.input.headers as Record<string, string>) };
}

function initialStatus(d: Decision): Status {
  switch (d.outcome) {
    case 'allow':
      return 'approved';
    case 'deny':
      return 'denied';
    case 'review':
      return 'pending';
    // Outcomes are a closed union: no decision reaches this (removing it is an equivalent mutant).
    default:
      return unreachable(d.outcome);
  }
}

/** A new action from a request and the policy's decision: the submitted and decided entries commit with it. */
export function createAction(args: {
  id: string;
  request: ActionRequest;
  requester: Requester;
  decision: Decision;
  now: Date;
  idempotencyKey?: string | undefined;
  /** The dry run computed before reviewers are asked, and the drift tolerance that goes with it. */
  preview?: { preview: ActionPreview; drift?: DriftTolerance | undefined } | undefined;
  /** What policy saw besides the input (sql facts), kept for reviewers. */
  facts?: ActionRecord['facts'] | undefined;
  /** The target masks every sql param in the audit log. */
  maskParams?: boolean | undefined;
  /** fingerprintOf this request and requester, when the caller computed it already. */
  fingerprint?: string | undefined;
}): Transition {
  const { id, request: r, requester, decision, now } = args;
  const ts = now.toISOString();
  const mode = r.mode ?? 'execute';
  const fingerprint = args.fingerprint ?? fingerprintOf({ kind: r.kind, target: r.target, input: r.input, requester: requester.id });
  const status = initialStatus(decision);
  const record: ActionRecord = {
    id,
    kind: r.kind,
    target: r.target,
    input: r.input,
    mode,
    requester,
    fingerprint,
    status,
    decision: {
      outcome: decision.outcome,
      rules: decision.rules,
      policyVersion: decision.policyVersion,
      reason: decision.reason,
      ...(decision.shadow ? { shadow: decision.shadow } : {}),
      ...(decision.grant ? { grant: decision.grant } : {}),
    },
    createdAt: ts,
    updatedAt: ts,
    version: 1,
  };
  if (r.justification !== undefined) record.justification = r.justification;
  if (r.context !== undefined) record.context = r.context;
  if (r.onBehalfOf !== undefined) record.onBehalfOf = r.onBehalfOf;
  if (args.idempotencyKey !== undefined) record.idempotencyKey = args.idempotencyKey;
  if (args.facts) record.facts = args.facts;
  if (args.preview) {
    record.preview = args.preview.preview;
    if (args.preview.drift) record.drift = args.preview.drift;
  }
  if (decision.outcome === 'review') {
    const requirements: Requirement[] = decision.requirements.map((q) => {
      const req: Requirement = { ruleId: q.ruleId, approvers: q.approvers, quorum: q.quorum, timeoutMs: q.timeoutMs };
      if (q.grants) req.grants = q.grants;
      if (q.escalate) req.escalate = { ...q.escalate, at: new Date(now.getTime() + q.escalate.afterMs).toISOString(), done: false };
      return req;
    });
    // Several review rules: the request lives as long as the shortest timeout (fail closed).
    const timeout = Math.min(...requirements.map((q) => q.timeoutMs));
    record.review = { requirements, reviews: [], expiresAt: new Date(now.getTime() + timeout).toISOString() };
    const due = nextEscalation(requirements);
    if (due) record.nextEscalationAt = due;
  }
  const actor: AuditActor = { type: requester.type, id: requester.id };
  const audit: AuditDraft[] = [
    {
      type: 'action.submitted',
      ts,
      actionId: id,
      actor,
      data: {
        kind: r.kind,
        target: r.target,
        input: auditInput(r, args.maskParams === true),
        mode,
        fingerprint,
        requester: { ...requester },
        ...(r.onBehalfOf !== undefined ? { onBehalfOf: r.onBehalfOf } : {}),
        ...(r.justification !== undefined ? { justification: r.justification } : {}),
        ...(r.context !== undefined ? { context: r.context } : {}),
      },
    },
    {
      type: 'action.decided',
      ts,
      actionId: id,
      actor: SYSTEM,
      data: {
        outcome: decision.outcome,
        rules: decision.rules,
        policyVersion: decision.policyVersion,
        reason: decision.reason,
        fingerprint,
        // Shadow rules that fired and what enforcing them would decide; the grant that allowed it.
        ...(decision.shadow ? { shadow: decision.shadow } : {}),
        ...(decision.grant ? { grant: decision.grant } : {}),
        ...(record.review ? { requirements: record.review.requirements, expiresAt: record.review.expiresAt } : {}),
        // What reviewers are shown and execution is held to: counts and a hash, no rows.
        ...(args.preview ? { preview: previewSummary(args.preview.preview), ...(args.preview.drift ? { drift: args.preview.drift } : {}) } : {}),
      },
    },
  ];
  return { next: record, audit };
}

function previewSummary(p: ActionPreview): Record<string, unknown> {
  // A command's output stays out of the log (it may hold what its readers must not see): its hash binds it.
  if (p.mode === 'command') return { mode: p.mode, status: p.status, ...(p.reason !== undefined ? { reason: p.reason } : {}), exitCode: p.exitCode, outputHash: p.outputHash };
  return { mode: p.mode, status: p.status, ...(p.reason !== undefined ? { reason: p.reason } : {}), summary: p.summary };
}

function nextEscalation(reqs: readonly Requirement[]): string | undefined {
  const due = reqs.filter((q) => q.escalate && !q.escalate.done).map((q) => q.escalate!.at);
  return due.length ? due.sort()[0] : undefined;
}

export function isExpired(a: ActionRecord, now: Date): boolean {
  return a.status === 'pending' && !!a.review && Date.parse(a.review.expiresAt) <= now.getTime();
}

/** A review (approve or deny) by a human, with every separation-of-duties rule applied. */
export function applyReview(
  a: ActionRecord,
  who: Principal,
  verdict: Verdict,
  opts: { fingerprint?: string | undefined; comment?: string | undefined; via: string; now: Date },
): Transition {
  if (!a.review) {
    // An action that never needed review names no reviewer: nobody is eligible, and
    // nothing about it (not even its status) is told to someone who may not read it.
    if (who.type === 'agent') throw new AppError('AGENT_CANNOT_REVIEW');
    throw new AppError('NOT_ELIGIBLE', 'Not an eligible reviewer: this action did not need review');
  }
  const pending = a.status === 'pending' && !isExpired(a, opts.now);
  const { human, countsFor } = checkReviewer(who, partiesOf(a), a.review, pending);
  if (verdict === 'approve' && opts.fingerprint !== a.fingerprint) {
    throw new AppError('FINGERPRINT_MISMATCH', 'The fingerprint does not match the stored action: re-read the action before approving', {
      expected: a.fingerprint,
    });
  }
  const ts = opts.now.toISOString();
  const review = {
    reviewer: human.id,
    groups: [...human.groups],
    verdict,
    via: opts.via,
    at: ts,
    countsFor,
    ...(verdict === 'approve' ? { fingerprint: a.fingerprint } : {}),
    ...(opts.comment !== undefined ? { comment: opts.comment } : {}),
  };
  const state = { ...a.review, reviews: [...a.review.reviews, review] };
  const outcome = reviewOutcome(state, a.fingerprint, partiesOf(a));
  const patch: Partial<ActionRecord> = { review: state };
  const next = outcome === 'pending' ? { ...a, ...patch, updatedAt: ts, version: a.version + 1 } : move(a, outcome, ts, patch);
  if (outcome !== 'pending') delete next.nextEscalationAt;
  return {
    next,
    audit: [{ type: 'action.reviewed', ts, actionId: a.id, actor: actorOf(who), data: { ...review, outcome } }],
  };
}

export function cancelAction(a: ActionRecord, who: Principal, now: Date): Transition {
  if (who.id !== a.requester.id || who.type !== a.requester.type) throw new AppError('NOT_REQUESTER', 'Only the requester can cancel this action');
  if (a.status !== 'pending') throw new AppError('NOT_PENDING', `The action is ${a.status}; only pending actions can be cancelled`, { status: a.status });
  const ts = now.toISOString();
  const next = move(a, 'cancelled', ts);
  delete next.nextEscalationAt;
  return { next, audit: [{ type: 'action.cancelled', ts, actionId: a.id, actor: actorOf(who), data: {} }] };
}

export function expireAction(a: ActionRecord, now: Date): Transition {
  if (!isExpired(a, now)) throw new AppError('NOT_PENDING', 'not due to expire', { status: a.status });
  const ts = now.toISOString();
  const next = move(a, 'expired', ts);
  delete next.nextEscalationAt;
  return { next, audit: [{ type: 'action.expired', ts, actionId: a.id, actor: SYSTEM, data: { expiresAt: a.review!.expiresAt } }] };
}

/** Marks every escalation that is due as done; the new approvers become eligible. */
export function escalateAction(a: ActionRecord, now: Date): Transition & { escalated: Requirement[] } {
  if (a.status !== 'pending' || !a.review) throw new AppError('NOT_PENDING', 'not pending', { status: a.status });
  const ts = now.toISOString();
  const escalated: Requirement[] = [];
  const requirements = a.review.requirements.map((q) => {
    if (!q.escalate || q.escalate.done || Date.parse(q.escalate.at) > now.getTime()) return q;
    const done = { ...q, escalate: { ...q.escalate, done: true } };
    escalated.push(done);
    return done;
  });
  const next: ActionRecord = { ...a, review: { ...a.review, requirements }, updatedAt: ts, version: a.version + 1 };
  const due = nextEscalation(requirements);
  if (due) next.nextEscalationAt = due;
  else delete next.nextEscalationAt;
  const audit: AuditDraft[] = escalated.map((q) => ({
    type: 'action.escalated',
    ts,
    actionId: a.id,
    actor: SYSTEM,
    data: { ruleId: q.ruleId, to: q.escalate!.to },
  }));
  return { next, audit, escalated };
}

/** The durable promise that the executor is about to be called, written before it is. */
export function startExecution(a: ActionRecord, now: Date, runner: Runner): Transition {
  if (a.mode !== 'execute') throw new AppError('NOT_PENDING', 'decide-mode actions are run by the agent, not the gateway');
  if (a.status !== 'approved') throw new AppError('NOT_PENDING', `The action is ${a.status}, not approved`, { status: a.status });
  const ts = now.toISOString();
  const next = move(a, 'running', ts, { result: { ok: false, startedAt: ts, runner } });
  return { next, audit: [{ type: 'execution.started', ts, actionId: a.id, actor: SYSTEM, data: { fingerprint: a.fingerprint } }] };
}

export function finishExecution(a: ActionRecord, result: Omit<ExecutionResult, 'startedAt' | 'finishedAt'>, now: Date): Transition {
  const ts = now.toISOString();
  // The runner is dropped by leaving it out, not by `delete`: a deleted property turns the
  // object into a slow dictionary, which every later copy and clone of the record pays for.
  const { runner: _runner, ...rest } = result as ExecutionResult;
  const full: ExecutionResult = { ...rest, startedAt: a.result?.startedAt ?? ts, finishedAt: ts };
  const next = move(a, result.ok ? 'succeeded' : 'failed', ts, { result: full });
  const summary: Record<string, unknown> = { ok: full.ok };
  if (full.status !== undefined) summary.status = full.status;
  if (full.exitCode !== undefined) summary.exitCode = full.exitCode;
  if (full.reason !== undefined) summary.reason = full.reason;
  if (full.error) summary.error = full.error;
  if (a.kind === 'sql') Object.assign(summary, sqlResultSummary(full.body));
  if (a.kind === 'command') Object.assign(summary, commandResultSummary(full.body));
  return {
    next,
    audit: [{ type: 'execution.finished', ts, actionId: a.id, actor: SYSTEM, data: { outcome: next.status, ...summary } }],
  };
}

/** A request found running at start-up: it may or may not have run; never re-run it. */
export function interruptExecution(a: ActionRecord, now: Date): Transition {
  return finishExecution(a, { ok: false, reason: 'interrupted', error: { code: 'INTERRUPTED', message: 'The gateway stopped while this action was running; it was not re-run' } }, now);
}

/** Whether a running action's runner is gone: its lease ran out, or it was a process on this host that no longer exists. */
export function runnerIsGone(a: ActionRecord, now: Date, here: { host: string; pid: number; instance: string; isAlive(pid: number): boolean }): boolean {
  const r = a.result?.runner;
  if (!r) return true;
  if (Date.parse(r.leaseUntil) <= now.getTime()) return true;
  if (r.host !== here.host) return false;
  // A restarted container has the same host name and often the same pid (1): then the
  // pid is alive because it is us, and the runner is gone unless it is this very process.
  if (r.pid === here.pid) return r.instance !== here.instance;
  return !here.isAlive(r.pid);
}
