import type { ActionRequest } from '../domain/action.js';
import { fingerprintOf } from '../domain/action.js';
import { checkJsonValue } from '../domain/json-check.js';
import type { ActionRecord } from '../domain/action-record.js';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import { isSettled } from '../domain/status.js';
import type { Clock } from '../ports/clock.js';
import type { HeldCallStore } from '../ports/held-calls.js';
import type { ExecutionService } from './execution-service.js';
import type { QueryService } from './query-service.js';
import type { SubmitService } from './submit-service.js';

/** `settled`: the outcome is the agent's now (delivered once); `pending`: still under review, call again. */
export type HeldOutcome = { state: 'settled'; action: ActionRecord } | { state: 'pending'; action: ActionRecord };

export interface HoldOptions {
  /** How long to wait for a review before answering `pending`. */
  holdMs: number;
  /** How often `onTick` is called while holding. */
  tickMs: number;
  onTick?: (elapsedMs: number, action: ActionRecord) => void | Promise<void>;
  signal?: AbortSignal | undefined;
}

export interface HeldCallService {
  /**
   * A call an agent makes, and makes again to learn its outcome: the first call submits
   * (allowed execute-mode calls run at once, inline); a call that needs review is held
   * up to `holdMs`; an identical call later returns the outcome once it is known, and
   * once only: after that, the same call is a new action.
   */
  call(who: Principal, request: ActionRequest, opts: HoldOptions): Promise<HeldOutcome>;
}

const MAX_ROUNDS = 4;

export function createHeldCallService(deps: {
  submit: SubmitService;
  held: HeldCallStore;
  queries: QueryService;
  executions: Pick<ExecutionService, 'complete' | 'dispatch'>;
  clock: Clock;
}): HeldCallService {
  /**
   * Holds the call until its action settles or the hold ends. Nothing of the record is
   * kept while waiting (a suspended async function keeps all its locals and parameters,
   * and thousands of held calls each kept a copy: docs/reliability.md, many waiters):
   * the first record is looked at here, then only its id is held.
   */
  function hold(who: Principal, action: ActionRecord, opts: HoldOptions): Promise<ActionRecord> {
    const started = Date.now();
    return done(action, started, opts) ? Promise.resolve(action) : holdOn(who, action.id, started, opts);
  }

  /** Whether the hold ends with `a`; an approval whose execution nobody started is dispatched first. */
  function done(a: ActionRecord, started: number, opts: HoldOptions): boolean {
    // Its process stopped before starting it: any process may start it, once.
    if (a.status === 'approved' && a.mode === 'execute') deps.executions.dispatch(a);
    return isSettled(a.status, a.mode) || opts.holdMs - (Date.now() - started) <= 0 || opts.signal?.aborted === true;
  }

  async function holdOn(who: Principal, id: string, started: number, opts: HoldOptions): Promise<ActionRecord> {
    let a: ActionRecord | undefined;
    for (;;) {
      const left = opts.holdMs - (Date.now() - started);
      const seconds = Math.max(1, Math.round(Math.min(opts.tickMs, left) / 1000));
      // eslint-disable-next-line no-useless-assignment -- not kept while waiting (above)
      a = undefined;
      a = await deps.queries.wait(who, id, seconds, opts.signal);
      if (!isSettled(a.status, a.mode) && opts.onTick) await opts.onTick(Date.now() - started, a);
      if (done(a, started, opts)) return a;
    }
  }

  /** The call's held action (pending), or its outcome when it was never held. */
  async function open(who: Principal, request: ActionRequest, fingerprint: string): Promise<HeldOutcome> {
    const held = await deps.held.openHeld(who.id, fingerprint);
    if (held) return { state: 'pending', action: held };
    const { action: a } = await deps.submit.submit(who, request, undefined, { held: true, inline: true, checkedFingerprint: fingerprint });
    if (a.status === 'running') return { state: 'settled', action: await deps.executions.complete(a) };
    // Allowed in decide mode, or denied: the outcome is known now and was never held.
    if (a.status !== 'pending') return { state: 'settled', action: a };
    return { state: 'pending', action: a };
  }

  return {
    async call(who, request, opts) {
      // Before the fingerprint: canonical JSON cannot hold what this refuses (1e400 parses as Infinity).
      checkJsonValue(request.input, 'input');
      const fingerprint = fingerprintOf({ kind: request.kind, target: request.target, input: request.input, requester: who.id });
      for (let round = 0; round < MAX_ROUNDS; round++) {
        let opened: HeldOutcome | undefined = await open(who, request, fingerprint);
        if (opened.state === 'settled') return opened;
        const holding = hold(who, opened.action, opts);
        // eslint-disable-next-line no-useless-assignment -- the hold keeps what it needs; this frame keeps no record while it waits
        opened = undefined;
        const now = await holding;
        if (!isSettled(now.status, now.mode)) return { state: 'pending', action: now };
        // The caller is gone (it hung up while held): the outcome waits for its next identical call.
        if (opts.signal?.aborted) return { state: 'pending', action: now };
        const ts = deps.clock.now().toISOString();
        const delivered = await deps.held.deliver(now.id, [
          { type: 'action.delivered', ts, actionId: now.id, actor: { type: who.type, id: who.id }, data: { status: now.status, fingerprint } },
        ]);
        if (delivered) return { state: 'settled', action: now };
        // A concurrent identical call took this outcome: this call is a new one.
      }
      throw new AppError('CONFLICT', 'Concurrent identical calls kept taking this outcome; call again');
    },
  };
}
