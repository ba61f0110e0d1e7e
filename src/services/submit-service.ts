import type { ActionKind, ActionRequest } from '../domain/action.js';
import { ACTION_KINDS, ACTION_TARGET_KINDS, fingerprintOf, runsOn } from '../domain/action.js';
import type { ActionRecord, Requester, Runner } from '../domain/action-record.js';
import type { DecisionExtras } from '../domain/decision-extras.js';
import { startedAtCreation, tightenDecision } from '../domain/decision-extras.js';
import { AppError } from '../domain/errors.js';
import { checkJsonValue } from '../domain/json-check.js';
import type { Principal } from '../domain/identity.js';
import { createAction } from '../domain/lifecycle.js';
import { recordingView } from '../domain/counter-reads.js';
import type { CompiledPolicy, Decision, EvaluationHints, EvaluationInput } from '../domain/policy-types.js';
import type { ReviewTuning } from './review-tuning.js';
import type { TargetCatalog, TargetInfo } from '../domain/target-catalog.js';
import type { Clock } from '../ports/clock.js';
import type { HeldCallStore } from '../ports/held-calls.js';
import type { IdSource } from '../ports/ids.js';
import type { Notifier } from '../ports/notifier.js';
import type { Previewer } from '../ports/previewer.js';
import { touchesMaskedTable } from '../domain/sql-mask.js';
import type { Store } from '../ports/store.js';
import type { PolicyService } from './policy-service.js';
import { previewOf } from './submit-preview.js';

export interface SubmitResult {
  action: ActionRecord;
  /** False on an idempotent replay. */
  created: boolean;
}

export interface SubmitOptions {
  /** A review outcome is recorded as a held call, whose outcome the agent collects by calling again (HeldCallStore). */
  held?: boolean;
  /** An allowed execute-mode action is inserted already running by this process; the caller runs it (ExecutionService.complete). */
  inline?: boolean;
  /** What the way in knows of the session the action comes from (the wire gateway's search_path), for the input's facts. */
  session?: InputSession;
  /**
   * The way in already refused what canonical JSON cannot hold in `request.input` and
   * computed this fingerprint of the same request and principal (HeldCallService needs
   * it first, to find an identical held call): neither is done a second time.
   */
  checkedFingerprint?: string;
}

/** Session state a way in tracks that changes what an input means (PostgreSQL's search_path). */
export interface InputSession {
  searchPath?: readonly string[];
}

export interface SubmitService {
  submit(who: Principal, request: ActionRequest, idempotencyKey?: string, opts?: SubmitOptions): Promise<SubmitResult>;
}

/**
 * Kind-specific checks of an input against its target (throw AppError to refuse). A
 * check that analyses the input (a sql statement's parse) returns what it found, for policy.
 */
export type InputCheck = (request: ActionRequest, target: TargetInfo, session?: InputSession) => EvaluationHints | void;

export function requesterOf(p: Principal): Requester {
  return p.type === 'agent' ? { id: p.id, type: 'agent', owner: p.owner } : { id: p.id, type: 'human' };
}

export function createSubmitService(deps: {
  store: Store;
  policy: PolicyService;
  targets: TargetCatalog;
  checkInput: InputCheck;
  clock: Clock;
  ids: IdSource;
  notifier: Notifier;
  /** Called once an action is approved in execute mode, after it committed. */
  dispatch(action: ActionRecord): void;
  /** What the gateway knows about an action besides its input (MCP annotations, changed tools), by kind. */
  extras?: (request: ActionRequest) => Promise<DecisionExtras | undefined>;
  held?: HeldCallStore;
  /** The runner an inline execution records (SubmitOptions.inline). */
  runnerFor?: (action: ActionRecord) => Runner;
  /** Dry runs by kind (sql, command), computed when the outcome is review, before reviewers are asked. */
  previewers?: Partial<Record<ActionKind, Previewer>>;
  /** Longest wait for a previewer that does not keep its own timeout; default 60 s. */
  previewDeadlineMs?: number;
  /** Counters, first times and standing grants (review-tuning.ts). */
  tuning?: ReviewTuning;
}): SubmitService {
  const { store } = deps;

  async function replay(who: Principal, request: ActionRequest, existing: ActionRecord): Promise<SubmitResult> {
    const fp = fingerprintOf({ kind: request.kind, target: request.target, input: request.input, requester: who.id });
    if (fp !== existing.fingerprint || (request.mode ?? 'execute') !== existing.mode) {
      throw new AppError('IDEMPOTENCY_CONFLICT', 'This Idempotency-Key was already used for a different action', { actionId: existing.id });
    }
    return { action: existing, created: false };
  }

  const self: SubmitService = {
    submit: (who, request, idempotencyKey, opts = {}) => decide(who, request, idempotencyKey, opts, 0),
  };

  async function decide(who: Principal, request: ActionRequest, idempotencyKey: string | undefined, opts: SubmitOptions, attempt: number): Promise<SubmitResult> {
    const target = deps.targets.get(request.target);
    if (!target) throw new AppError('TARGET_NOT_FOUND', `Unknown target "${request.target}"`, { target: request.target });
    if (!runsOn(request.kind, target.kind)) {
      // `expected` stays the action kind to send, as before target kinds differed from action kinds.
      const expected = ACTION_KINDS.filter((k) => runsOn(k, target.kind)).join(' or ');
      const runs = ACTION_TARGET_KINDS[request.kind].join(' or ');
      throw new AppError('KIND_MISMATCH', `Target "${target.name}" is of kind ${target.kind}, not ${request.kind} (actions of kind ${request.kind} run on ${runs} targets)`, { expected, targetKind: target.kind });
    }
    // What canonical JSON cannot hold is refused here, as bad input, not later as a storage failure.
    if (opts.checkedFingerprint === undefined) checkJsonValue(request.input, 'input');
    if (request.context !== undefined) checkJsonValue(request.context, 'context');
    if (request.justification !== undefined) checkJsonValue(request.justification, 'justification');
    const found = deps.checkInput(request, target, opts.session) ?? undefined;
    if (idempotencyKey !== undefined) {
      const existing = await store.getByIdempotencyKey(who.id, idempotencyKey);
      if (existing) return replay(who, request, existing);
    }
    const policy = deps.policy.current();
    // Fail closed: without a policy nothing is decided.
    if (!policy) throw new AppError('POLICY_UNAVAILABLE');
    const requester = requesterOf(who);
    const extras = deps.extras ? await deps.extras(request) : undefined;
    const input: EvaluationInput = {
      action: { ...request, mode: request.mode ?? 'execute' },
      requester: { id: who.id, type: who.type, owner: requester.owner, labels: who.type === 'agent' ? who.labels : {} },
      target: target.facts,
      hints: found || extras?.hints ? { ...extras?.hints, ...found } : undefined,
      history: undefined,
    };
    // The counters this decision reads are noted, for the store to check when it writes the action.
    const viewed = deps.tuning ? await deps.tuning.history.view(policy) : undefined;
    const recorder = viewed ? recordingView(viewed) : undefined;
    input.history = recorder?.view;
    let decision = tightenDecision(policy.evaluate(input), extras);
    const reads = recorder?.reads() ?? [];
    // A standing grant may answer a review (grant-service.ts); its use commits with the action.
    const covered = deps.tuning ? await deps.tuning.grants.cover(policy, input, decision) : undefined;
    if (covered) decision = covered.decision;
    const previewer = decision.outcome === 'review' ? deps.previewers?.[request.kind] : undefined;
    const preview = previewer ? await previewOf(previewer, request, decision, { deadlineMs: deps.previewDeadlineMs ?? 60_000, clock: deps.clock }) : undefined;
    const now = deps.clock.now();
    const facts = found?.sql ? { sql: found.sql } : found?.command ? { command: found.command } : undefined;
    const maskParams = target.maskParams === true || (facts?.sql !== undefined && touchesMaskedTable(target.maskRules ?? [], facts.sql.tables));
    let t = createAction({ id: deps.ids.actionId(), request, requester, decision, now, idempotencyKey, preview, facts, maskParams, fingerprint: opts.checkedFingerprint });
    const inline = opts.inline === true && t.next.status === 'approved' && t.next.mode === 'execute' && deps.runnerFor !== undefined;
    if (deps.tuning) annotate(t.next, policy, input, decision, deps.tuning);
    if (inline) t = startedAtCreation(t, now, deps.runnerFor!(t.next));
    const undo = deps.tuning?.history.reserve(t.next);
    let res: Awaited<ReturnType<Store['insertAction']>>;
    const held = opts.held === true && deps.held !== undefined && t.next.status === 'pending';
    try {
      if (deps.tuning && (covered || reads.length)) {
        const r = await deps.tuning.decided.insertDecided(t.next, t.audit, { reads, use: covered?.use, held });
        // A grant used up, revoked or expired since it was read, or counter hits this
        // decision did not know of (another replica's): decide again, on fresh history.
        if ('grantUnavailable' in r || 'historyChanged' in r) {
          undo?.();
          if (attempt + 1 >= MAX_DECISION_ATTEMPTS) throw new AppError('HISTORY_CONTENDED', `Counters kept changing under this decision (${MAX_DECISION_ATTEMPTS} attempts): try again`);
          return decide(who, request, idempotencyKey, opts, attempt + 1);
        }
        res = r;
      } else res = held ? await deps.held!.insertHeld(t.next, t.audit) : await store.insertAction(t.next, t.audit);
    } catch (e) {
      undo?.();
      throw e;
    }
    if (!res.inserted) {
      undo?.();
      return replay(who, request, res.existing);
    }
    deps.notifier.notify({ type: 'created', action: res.action });
    if (!inline && res.action.status === 'approved' && res.action.mode === 'execute') deps.dispatch(res.action);
    return { action: res.action, created: true };
  }
  return self;
}

/** Decisions retried because their grant or counters changed before the write; past this, HISTORY_CONTENDED. */
const MAX_DECISION_ATTEMPTS = 16;

/** The counter hits the action will make, and the facts a grant given with its approval would pin. */
function annotate(record: ActionRecord, policy: CompiledPolicy, input: EvaluationInput, d: Decision, tuning: ReviewTuning): void {
  if (policy.counters.length) {
    const tally = policy.tally(input);
    if (tally.length) record.tally = tally;
  }
  const scope = tuning.grants.scopeFor(d, input);
  if (scope) record.grantScope = scope;
}
