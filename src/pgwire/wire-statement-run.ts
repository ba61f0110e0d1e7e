import { serialize } from 'pg-protocol';
import type { ActionRecord } from '../domain/action-record.js';
import { sqlPreviewOf } from '../domain/action-record.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { executionFailure } from '../domain/execution-failure.js';
import type { DriftVerdict } from '../domain/sql-drift.js';
import { checkDrift } from '../domain/sql-drift.js';
import type { Outcome, SendOptions } from './upstream-relay.js';
import type { UpstreamRelay } from './upstream-relay.js';
import { upstreamQueryable } from './upstream-query.js';
import type { WireDriftWatch } from './wire-gate.js';
import type { SessionCore, Via } from './wire-session-core.js';
import { modeOf } from './wire-session-core.js';

/** Runs an action on the session's upstream connection, relaying PostgreSQL's answer: the executor of wire actions. */
export async function runOnSession(s: SessionCore, a: ActionRecord, via: Via): Promise<ExecutorResult> {
  s.relayedError = false;
  if (s.cancelRequested) return executionFailure('ABORTED', 'canceling statement due to user request: the client cancelled it before it ran; nothing was run');
  if (s.closed) return executionFailure('ABORTED', 'the client disconnected before the statement ran; nothing was run');
  let relay: UpstreamRelay;
  try {
    relay = await s.upstream();
  } catch (e) {
    return executionFailure('CONNECTION_FAILED', `cannot connect to target "${s.db.target.name}": ${(e as Error).message}; nothing was run`);
  }
  const masking = s.db.target.mask.length > 0;
  const statement = String((a.input as { statement?: unknown }).statement);
  // An approved preview binds what runs: the answer is held back until what it did compares
  // with what was approved (the `sql` kind's drift check: rows per statement, rows changed
  // per table, schema and privilege changes), and on drift its transaction is rolled back.
  const preview = sqlPreviewOf(a);
  if (preview && (preview.status === 'failed' || preview.status === 'timeout')) {
    const v = checkDrift(preview, []);
    return executionFailure('PREVIEW_UNAVAILABLE', v.ok ? 'no approved preview' : v.message);
  }
  const bound = preview?.status === 'ok' ? preview : undefined;
  const buffer: Buffer[] | undefined = bound ? [] : undefined;
  // Outside a transaction a Query commits on its own: it runs inside one the gateway ends.
  const wrap = bound !== undefined && via.mode === 'query' && relay.up.status === 'I';
  const control = (sql: string) => relay.send(serialize.query(sql), 'query', { swallow: true, holdReady: true });
  const undo = () => (wrap ? control('ROLLBACK') : s.abortUpstream(via.mode === 'query' ? 'query' : 'extended'));
  s.running = true;
  let out: Outcome;
  try {
    if (wrap) await control('BEGIN');
    let watch: WireDriftWatch | undefined;
    if (bound) {
      try {
        watch = await s.gate.watchDrift(upstreamQueryable(relay, modeOf(via)), bound, statement);
      } catch (e) {
        // Fail closed: what cannot be compared does not run.
        await undo();
        return executionFailure('DRIFT', `the drift check could not read the database before the statement (${(e as Error).message}); nothing was run`);
      }
    }
    if (via.mode === 'query') {
      const passReady = via.ends === true && !buffer;
      out = await relay.send(serialize.query(statement), 'query', {
        holdReady: !passReady,
        ...(buffer ? { buffer } : {}),
        ...(masking ? { maskFromFields: (fields) => s.gate.maskFor(s.db.target, statement, fields) } : {}),
      });
      if (passReady && out.readyRelayed) s.readySent = true;
    } else {
      let mask: SendOptions['mask'];
      if (masking) {
        // The rows of an Execute come without a RowDescription: the gateway asks for one, for itself.
        const d = relay.send(serialize.describe({ type: 'P', name: via.portal }), 'describe', { swallow: true });
        void relay.send(serialize.flush(), undefined);
        const fields = (await d).fields ?? [];
        const masked = fields.length ? await s.gate.maskFor(s.db.target, statement, fields).catch(() => fields.map(() => true)) : [];
        mask = masked.some(Boolean) ? { masked, fields } : undefined;
      }
      const p = relay.send(via.raw, 'execute', { ...(mask ? { mask } : {}), ...(buffer ? { buffer } : {}) });
      // The client's Sync, when it came with the Execute, goes with it: PostgreSQL answers
      // Bind, Execute and Sync in one packet, relayed to the client in one write.
      if (!(via.ends === true && !buffer && s.sendSyncBehind(relay))) void relay.send(serialize.flush(), undefined);
      out = await p;
    }
    if (watch && out.status === 'ok') {
      let verdict: DriftVerdict;
      try {
        await watch.after();
        verdict = await watch.verdict(out.tags.map(rowsOf), a.drift);
      } catch (e) {
        verdict = { ok: false, kind: 'no-preview', status: 'failed', message: `the drift check could not read the database after the statement (${(e as Error).message}); rolled back` };
      }
      if (!verdict.ok) {
        // Nothing of it reaches the client; the (implicit or explicit) transaction is undone.
        await undo();
        return executionFailure('DRIFT', verdict.message);
      }
    }
    if (wrap) {
      const end = await control(out.status === 'ok' ? 'COMMIT' : 'ROLLBACK');
      if (end.status !== 'ok') out = end;
    }
    for (const b of buffer ?? []) s.write(b);
  } finally {
    s.running = false;
  }
  // A skipped statement follows an error the client already got: nothing more is reported for it.
  s.relayedError = out.status !== 'ok';
  if (out.status === 'ok') return { ok: true, body: { via: 'pgwire', commands: out.tags }, bodyEncoding: 'json' };
  if (out.status === 'error' && out.error?.code === QUERY_CANCELED && s.cancelRequested) {
    return executionFailure('ABORTED', 'the client cancelled the statement while it ran (CancelRequest); PostgreSQL stopped it and nothing of it was committed');
  }
  if (out.status === 'skipped') return executionFailure('ABORTED', 'PostgreSQL skipped the statement after an earlier error in the same batch');
  return executionFailure('EXECUTION_FAILED', `${out.error?.message ?? 'failed'} (SQLSTATE ${out.error?.code ?? 'XX000'})`);
}

const QUERY_CANCELED = '57014';

/** Rows a CommandComplete tag reports for DML (`UPDATE 3`, `INSERT 0 5`); null for anything else. */
function rowsOf(tag: string): number | null {
  const m = /^(INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$/.exec(tag);
  return m ? Number(m[2]) : null;
}
