import type { ActionRecord } from '../domain/action-record.js';
import { isFinal } from '../domain/status.js';
import { noticeResponse } from './server-messages.js';
import { SQLSTATE } from './wire-errors.js';
import { reviewNotice } from './wire-notices.js';
import type { SessionCore, Via } from './wire-session-core.js';
import { modeOf } from './wire-session-core.js';
import { runOnSession } from './wire-statement-run.js';

/** A statement that needs review: the client waits (or, inside a transaction, is refused if so configured); true when it ran and succeeded. */
export async function holdForReview(s: SessionCore, action: ActionRecord, via: Via): Promise<boolean> {
  const mode = modeOf(via);
  const inTransaction = s.status !== 'I';
  if (inTransaction && s.db.config.heldInTransaction === 'refuse') {
    await s.gate.cancel(s.who, action.id).catch(() => undefined);
    s.log.info({ actionId: action.id }, 'wire statement needing review refused inside a transaction; action cancelled');
    await s.fail(
      {
        code: SQLSTATE.ACTIVE_SQL_TRANSACTION,
        message: `this statement needs review (Countersign action ${action.id}) and cannot wait inside a transaction block`,
        hint: 'Run it outside BEGIN ... COMMIT; this transaction is aborted: ROLLBACK it. The action was cancelled.',
      },
      mode,
    );
    return false;
  }
  await s.settle();
  if (mode === 'extended' && s.relay?.failedUntilSync && s.relay.errorRelayed) {
    // PostgreSQL refused a message before this Execute (its Bind, sent with the decision):
    // the client has that error and the statement cannot run. Nobody is asked to review it.
    await s.gate.cancel(s.who, action.id).catch(() => undefined);
    s.log.info({ actionId: action.id }, 'wire statement needing review not held: PostgreSQL refused a message before it; action cancelled');
    return false;
  }
  s.write(noticeResponse(reviewNotice(action, s.gate.approveHint(action.id))));
  let ranHere = false;
  const final = await new Promise<ActionRecord>((resolve) => {
    let settled = false;
    const done = (a: ActionRecord) => {
      if (settled) return;
      settled = true;
      unwatch();
      detach();
      s.waiting = undefined;
      resolve(a);
    };
    const detach = s.gate.attach(action.id, (a) => {
      ranHere = true;
      return runOnSession(s, a, { ...via, ends: false });
    });
    const unwatch = s.gate.watch(action.id, (a) => {
      if (isFinal(a.status)) done(a);
    });
    s.waiting = {
      id: action.id,
      inTransaction,
      stop: async (reason) => {
        const keep = reason === 'gone' && !inTransaction && s.db.config.onDisconnect === 'keep';
        if (keep) {
          detach();
          s.log.info({ actionId: action.id }, 'wire client disconnected while its statement waited for review: the action is kept pending (it runs on its own connection if approved)');
          done({ ...action, status: 'cancelled' });
          return;
        }
        const c = await s.gate.cancel(s.who, action.id).catch(() => undefined);
        s.log.info({ actionId: action.id, reason }, reason === 'gone' ? 'wire client disconnected while its statement waited for review: the action was cancelled' : 'wire client cancelled its statement waiting for review: the action was cancelled');
        if (c) done(c);
      },
    };
    void s.gate.get(action.id).then((a) => a && isFinal(a.status) && done(a));
  });
  if (s.closed) return false;
  return answerFinal(s, final, ranHere, mode);
}

/** Tells the client how the review ended (a success was already answered by the run itself). */
async function answerFinal(s: SessionCore, final: ActionRecord, ranHere: boolean, mode: 'query' | 'extended'): Promise<boolean> {
  switch (final.status) {
    case 'succeeded':
      return true;
    case 'failed': {
      if (ranHere && s.relayedError) return false;
      const code = final.result?.error?.code ?? final.result?.reason;
      const sqlstate = code === 'ABORTED' ? SQLSTATE.QUERY_CANCELED : code === 'DRIFT' || code === 'PREVIEW_UNAVAILABLE' ? SQLSTATE.INSUFFICIENT_PRIVILEGE : SQLSTATE.INTERNAL_ERROR;
      await s.fail({ code: sqlstate, message: `the approved statement was not run: ${final.result?.error?.message ?? 'unknown error'}`, detail: `Countersign action ${final.id} (${code ?? 'failed'})` }, mode);
      return false;
    }
    case 'cancelled':
      await s.fail(
        s.cancelRequested
          ? { code: SQLSTATE.QUERY_CANCELED, message: 'canceling statement due to user request', detail: `Countersign action ${final.id} was cancelled` }
          : { code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: 'the statement was cancelled while it waited for review', detail: `Countersign action ${final.id}` },
        mode,
      );
      s.cancelRequested = false;
      return false;
    case 'denied': {
      const comment = final.review?.reviews.find((r) => r.verdict === 'deny')?.comment;
      await s.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: `denied by reviewers${comment ? `: ${comment}` : ''}`, detail: `Countersign action ${final.id}` }, mode);
      return false;
    }
    case 'expired':
      await s.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: 'the review expired before the statement was approved', detail: `Countersign action ${final.id}` }, mode);
      return false;
    case 'approved':
    case 'pending':
    case 'running':
      await s.fail({ code: SQLSTATE.INTERNAL_ERROR, message: `the action is ${final.status}`, detail: `Countersign action ${final.id}` }, mode);
      return false;
  }
}
