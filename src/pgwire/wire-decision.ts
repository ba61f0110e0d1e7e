import type { ActionRecord } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { SQLSTATE, sqlstateOf } from './wire-errors.js';
import type { WireStatement } from './wire-gate.js';
import { holdForReview } from './wire-review-hold.js';
import type { Failure, SessionCore, Via } from './wire-session-core.js';
import { EMPTY_QUERY, modeOf } from './wire-session-core.js';
import { runOnSession } from './wire-statement-run.js';

/** Submits the statement and answers the client according to the decision; true when it ran and succeeded. */
export async function decideAndAnswer(s: SessionCore, st: WireStatement, via: Via): Promise<boolean> {
  s.inStatement = true;
  s.cancelRequested = false;
  try {
    return await decide(s, st, via);
  } finally {
    s.inStatement = false;
  }
}

async function decide(s: SessionCore, st: WireStatement, via: Via): Promise<boolean> {
  const mode = modeOf(via);
  let action: ActionRecord;
  try {
    action = await s.gate.submit(s.who, s.db.target.name, st, s.info());
  } catch (e) {
    const code = isAppError(e) ? e.code : 'INTERNAL';
    if (code === 'SQL_EMPTY' && via.mode === 'query') {
      s.write(EMPTY_QUERY);
      return true;
    }
    if (!isAppError(e)) s.log.error({ err: e }, 'wire submit failed');
    await s.fail({ code: sqlstateOf(code), message: isAppError(e) ? e.message : 'internal error', detail: `Countersign error ${code}` }, mode);
    return false;
  }
  switch (action.status) {
    case 'running': {
      // The running state committed before anything is forwarded (at most once). The client
      // has PostgreSQL's answer as soon as it came; its record is written meanwhile (a crash
      // before it commits leaves the action marked interrupted by recovery, never re-run).
      let ran: ((r: ExecutorResult | 'not-run') => void) | undefined;
      const finished = new Promise<ExecutorResult | 'not-run'>((resolve) => (ran = resolve));
      s.gate
        .complete(action, async (a) => {
          const r = await runOnSession(s, a, via);
          ran?.(r);
          return r;
        })
        .catch((e: unknown) => {
          s.log.error({ err: e, actionId: action.id }, 'recording a wire execution failed');
          ran?.('not-run');
        });
      const outcome = await finished;
      ran = undefined;
      if (outcome === 'not-run') {
        await s.fail({ code: SQLSTATE.INTERNAL_ERROR, message: 'the statement could not be run', detail: `Countersign action ${action.id}` }, mode);
        return false;
      }
      // PostgreSQL's own error already reached the client; a statement the gateway did not run is reported here.
      if (!outcome.ok && !s.relayedError) await s.fail(notRun(outcome, action.id), mode);
      return outcome.ok;
    }
    case 'denied':
      await s.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: `denied by policy: ${action.decision.reason}`, detail: `Countersign action ${action.id} (rules: ${action.decision.rules.join(', ') || 'default'})` }, mode);
      return false;
    case 'pending':
      return holdForReview(s, action, via);
    case 'approved':
    case 'cancelled':
    case 'expired':
    case 'failed':
    case 'succeeded':
      await s.fail({ code: SQLSTATE.INTERNAL_ERROR, message: `the action is ${action.status}`, detail: `Countersign action ${action.id}` }, mode);
      return false;
  }
}

/** Why an allowed statement was not run (cancelled before it started, no upstream connection...), as an ErrorResponse. */
function notRun(r: ExecutorResult, id: string): Failure {
  const code = r.error?.code ?? r.reason ?? 'failed';
  const sqlstate = code === 'ABORTED' ? SQLSTATE.QUERY_CANCELED : code === 'CONNECTION_FAILED' ? SQLSTATE.SQLCLIENT_UNABLE_TO_CONNECT : SQLSTATE.INTERNAL_ERROR;
  return { code: sqlstate, message: r.error?.message ?? 'the statement was not run', detail: `Countersign action ${id} (${code})` };
}
