import type { Socket } from 'node:net';
import { serialize } from 'pg-protocol';
import type { Logger } from 'pino';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { WireDatabaseConfig } from '../config/postgres-listen-schema.js';
import type { ActionRecord } from '../domain/action-record.js';
import { sqlPreviewOf } from '../domain/action-record.js';
import { isAppError } from '../domain/errors.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import { executionFailure } from '../domain/execution-failure.js';
import { checkDrift } from '../domain/sql-drift.js';
import type { Principal } from '../domain/identity.js';
import type { SearchPath } from '../domain/sql-search-path.js';
import type { SqlParseOutcome } from '../domain/sql-tree.js';
import { isFinal } from '../domain/status.js';
import type { ClientMessage } from './client-messages.js';
import { textParam } from './client-messages.js';
import type { Outcome, SendOptions } from './upstream-relay.js';
import { UpstreamRelay } from './upstream-relay.js';
import { commandComplete, errorResponse, noticeResponse, readyForQuery } from './server-messages.js';
import { groupStatements, isPreparedTransaction, sessionAfter, streamsCopy } from './statement-groups.js';
import { SQLSTATE, sqlstateOf } from './wire-errors.js';
import type { WireGate, WireSessionInfo, WireStatement } from './wire-gate.js';
import { reviewNotice } from './wire-notices.js';

interface Failure {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

interface Prepared {
  sql: string;
  parsed?: SqlParseOutcome;
}

interface Portal {
  prepared: Prepared | undefined;
  params: Array<string | null>;
  binary: boolean;
  /** Decided once: a later Execute of the same portal (after PortalSuspended) continues it. */
  decided: boolean;
}

/** How a statement reaches upstream: a Query, or the client's own Execute of a bound portal. */
type Via = { mode: 'query' } | { mode: 'execute'; portal: string; raw: Buffer };

const EMPTY_QUERY = Buffer.from([0x49, 0, 0, 0, 4]);
/** Not SQL: PostgreSQL answers a syntax error, which aborts the transaction as the client expects after a refusal. */
const ABORT_TEXT = 'countersign_refused';

/**
 * One client connection after authentication. Every statement is submitted as a `sql`
 * action through the gateway's services; what is allowed is forwarded on the session's
 * own upstream connection and PostgreSQL's answer relayed; what is refused is answered
 * with an ErrorResponse; what needs review waits, then runs here once approved.
 */
export class WireSession {
  private relay: UpstreamRelay | undefined;
  private connecting: Promise<UpstreamRelay> | undefined;
  /** Prepared statements by name; the parse is made once, at the first Execute, and kept with it. */
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private searchPath: SearchPath | undefined;
  private role: string | undefined;
  /** After an error in the extended protocol, messages are skipped until Sync, as PostgreSQL does. */
  private discardUntilSync = false;
  private waiting: { id: string; inTransaction: boolean; stop(reason: 'cancel' | 'gone'): Promise<void> } | undefined;
  private running = false;
  /** The last run relayed PostgreSQL's own ErrorResponse to the client. */
  private relayedError = false;
  private cancelRequested = false;
  private closed = false;
  private readonly queue: Array<{ m: ClientMessage; raw: Buffer }> = [];
  private processing = false;

  constructor(
    private readonly socket: Socket,
    private readonly gate: WireGate,
    private readonly who: Principal,
    private readonly db: { name: string; config: WireDatabaseConfig; target: PostgresTargetSettings },
    private readonly log: Logger,
    private readonly clientAddress: string,
    private readonly onEnd: () => void,
  ) {}

  /** Queues client messages; they are handled one at a time, in order. */
  receive(ms: Array<{ m: ClientMessage; raw: Buffer }>): void {
    for (const x of ms) this.queue.push(x);
    if (!this.processing) void this.process();
  }

  private async process(): Promise<void> {
    this.processing = true;
    try {
      while (this.queue.length && !this.closed) {
        const { m, raw } = this.queue.shift()!;
        await this.handle(m, raw);
      }
    } catch (e) {
      this.log.error({ err: e }, 'wire session failed');
      this.fatal(SQLSTATE.INTERNAL_ERROR, 'internal error in the gateway');
    } finally {
      this.processing = false;
    }
  }

  private get status(): 'I' | 'T' | 'E' {
    return this.relay && !this.relay.lost ? this.relay.up.status : 'I';
  }

  private info(): WireSessionInfo {
    return { database: this.db.name, searchPath: this.searchPath, role: this.role, inTransaction: this.status !== 'I', client: this.clientAddress };
  }

  private write(buf: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  fatal(code: string, message: string): void {
    this.write(errorResponse({ severity: 'FATAL', code, message }));
    this.socket.end();
  }

  private async upstream(): Promise<UpstreamRelay> {
    if (this.relay && !this.relay.lost) return this.relay;
    this.connecting ??= this.gate.upstreams.acquire(this.db.target, this.who.id).then(
      (up) => {
        this.relay = new UpstreamRelay(this.socket, up, (err) => {
          if (!this.closed) this.log.warn({ err: err?.message }, 'upstream connection lost');
        });
        return this.relay;
      },
    );
    try {
      return await this.connecting;
    } finally {
      this.connecting = undefined;
    }
  }

  /** Everything already sent upstream has been answered (and relayed): the session may write its own messages. */
  private async settle(): Promise<void> {
    const r = this.relay;
    if (!r || r.pending === 0 || r.lost) return;
    await r.send(serialize.flush(), undefined);
    while (r.pending > 0 && !r.lost) await r.idle();
  }

  private async handle(m: ClientMessage, raw: Buffer): Promise<void> {
    if (this.discardUntilSync && m.type !== 'sync' && m.type !== 'terminate') return;
    switch (m.type) {
      case 'query':
        return this.query(m.sql);
      case 'parse':
        this.statements.set(m.name, { sql: m.sql });
        return this.forward(raw, 'parse');
      case 'bind': {
        const binary = m.params.some((p, i) => p !== null && (m.paramFormats.length === 1 ? m.paramFormats[0] : m.paramFormats[i]) === 1);
        this.portals.set(m.portal, { prepared: this.statements.get(m.statement), params: m.params.map(textParam), binary, decided: false });
        return this.forward(raw, 'bind');
      }
      case 'describe':
        return this.forward(raw, 'describe');
      case 'close':
        if (m.target === 'S') this.statements.delete(m.name);
        else this.portals.delete(m.name);
        return this.forward(raw, 'close');
      case 'execute':
        return this.execute(m.portal, raw);
      case 'flush':
        if (this.relay) await this.relay.send(serialize.flush(), undefined);
        return;
      case 'sync':
        this.discardUntilSync = false;
        if (this.relay && !this.relay.lost) {
          await this.relay.send(serialize.sync(), 'sync');
        } else this.write(readyForQuery('I'));
        return;
      case 'terminate':
        this.socket.end();
        return;
      case 'password':
        return this.refuseExtended({ code: SQLSTATE.PROTOCOL_VIOLATION, message: 'unexpected password message after authentication' });
      case 'unsupported':
        return this.refuseExtended({ code: SQLSTATE.FEATURE_NOT_SUPPORTED, message: `${m.what} is not supported through the Countersign gateway` });
    }
  }

  private async forward(buf: Buffer, expect: 'parse' | 'bind' | 'describe' | 'close'): Promise<void> {
    let relay: UpstreamRelay;
    try {
      relay = await this.upstream();
    } catch (e) {
      return this.refuseExtended({ code: SQLSTATE.SQLCLIENT_UNABLE_TO_CONNECT, message: `cannot connect to the database: ${(e as Error).message}` });
    }
    void relay.send(buf, expect);
  }

  /** An error in the extended protocol: reported after what came before, then skip until Sync. */
  private async refuseExtended(f: Failure): Promise<void> {
    await this.fail(f, 'extended');
    this.discardUntilSync = true;
  }

  /**
   * Reports a refusal as PostgreSQL reports an error: inside a transaction (or an
   * extended-protocol batch) the upstream transaction is aborted first, so that what
   * follows behaves as after any failed statement (25P02 until ROLLBACK).
   */
  private async fail(f: Failure, mode: 'query' | 'extended'): Promise<void> {
    await this.settle();
    await this.abortUpstream(mode);
    this.write(errorResponse({ code: f.code, message: f.message, ...(f.detail ? { detail: f.detail } : {}), ...(f.hint ? { hint: f.hint } : {}) }));
  }

  /** Aborts the upstream transaction (explicit, or the implicit one of an extended-protocol batch) with an error PostgreSQL raises itself. */
  private async abortUpstream(mode: 'query' | 'extended'): Promise<void> {
    const r = this.relay;
    if (!r || r.lost || r.failedUntilSync || !(mode === 'extended' || r.up.status === 'T')) return;
    if (mode === 'query') {
      await r.send(serialize.query(ABORT_TEXT), 'query', { swallow: true, holdReady: true });
      return;
    }
    const done = r.send(serialize.parse({ text: ABORT_TEXT }), 'parse', { swallow: true });
    void r.send(serialize.flush(), undefined);
    await done;
  }

  private async query(sql: string): Promise<void> {
    await this.settle();
    const parsed = this.gate.parse(sql);
    if (!parsed.ok) {
      await this.fail({ code: SQLSTATE.SYNTAX_ERROR, message: parsed.message }, 'query');
      return this.write(readyForQuery(this.status));
    }
    if (parsed.statements.length === 0) {
      this.write(EMPTY_QUERY);
      return this.write(readyForQuery(this.status));
    }
    for (const g of groupStatements(sql, parsed.statements)) {
      if (g.control) {
        if (g.statements.some(isPreparedTransaction)) {
          await this.fail({ code: SQLSTATE.FEATURE_NOT_SUPPORTED, message: 'two-phase commit (PREPARE TRANSACTION) is not supported through the Countersign gateway' }, 'query');
          break;
        }
        if (this.status === 'I' && /^\s*(commit|end|rollback|abort)\b/i.test(g.text) && !this.relay) {
          // Nothing to end: answered as PostgreSQL does, without opening a connection.
          this.write(noticeResponse({ severity: 'WARNING', code: '25P01', message: 'there is no transaction in progress' }));
          this.write(commandComplete(/^\s*(rollback|abort)/i.test(g.text) ? 'ROLLBACK' : 'COMMIT'));
          continue;
        }
        const out = await this.send(serialize.query(g.text), 'query', { holdReady: true });
        if (out.status !== 'ok') break;
        continue;
      }
      if (streamsCopy(g.statements)) {
        await this.fail({ code: SQLSTATE.FEATURE_NOT_SUPPORTED, message: 'COPY FROM STDIN / TO STDOUT is not supported through the Countersign gateway' }, 'query');
        break;
      }
      const ok = await this.gated({ statement: g.text }, { mode: 'query' });
      if (!ok) break;
      Object.assign(this, sessionAfter(g.statements, { searchPath: this.searchPath, role: this.role }));
    }
    this.write(readyForQuery(this.status));
  }

  private async send(buf: Buffer, expect: 'query', opts: SendOptions): Promise<Outcome> {
    let relay: UpstreamRelay;
    try {
      relay = await this.upstream();
    } catch (e) {
      await this.fail({ code: SQLSTATE.SQLCLIENT_UNABLE_TO_CONNECT, message: `cannot connect to the database: ${(e as Error).message}` }, 'query');
      return { status: 'error', tags: [] };
    }
    return relay.send(buf, expect, opts);
  }

  private async execute(name: string, raw: Buffer): Promise<void> {
    const portal = this.portals.get(name);
    const prepared = portal?.prepared;
    if (!portal || !prepared) {
      // Upstream knows (or not) the portal: it answers 34000 itself, in order.
      if (this.relay) void this.relay.send(raw, 'execute');
      return;
    }
    if (portal.decided) {
      void this.relay?.send(raw, 'execute');
      return;
    }
    if (portal.binary) {
      return this.refuseExtended({ code: SQLSTATE.FEATURE_NOT_SUPPORTED, message: 'parameters in binary format are not supported through the Countersign gateway; send them as text' });
    }
    const sql = prepared.sql;
    const parsed = (prepared.parsed ??= this.gate.parse(sql));
    if (parsed.ok && streamsCopy(parsed.statements)) {
      return this.refuseExtended({ code: SQLSTATE.FEATURE_NOT_SUPPORTED, message: 'COPY FROM STDIN / TO STDOUT is not supported through the Countersign gateway' });
    }
    // What came before is answered before the decision is: its errors come first.
    await this.settle();
    if (this.relay?.failedUntilSync || this.discardUntilSync) return;
    portal.decided = true;
    const ok = await this.gated({ statement: sql, params: portal.params }, { mode: 'execute', portal: name, raw });
    if (!ok) this.discardUntilSync = true;
    else if (parsed.ok) Object.assign(this, sessionAfter(parsed.statements, { searchPath: this.searchPath, role: this.role }));
  }

  /** Submits the statement and answers the client according to the decision; true when it ran and succeeded. */
  private async gated(s: WireStatement, via: Via): Promise<boolean> {
    const mode = via.mode === 'query' ? 'query' : 'extended';
    let action: ActionRecord;
    try {
      action = await this.gate.submit(this.who, this.db.target.name, s, this.info());
    } catch (e) {
      const code = isAppError(e) ? e.code : 'INTERNAL';
      if (code === 'SQL_EMPTY' && via.mode === 'query') {
        this.write(EMPTY_QUERY);
        return true;
      }
      if (!isAppError(e)) this.log.error({ err: e }, 'wire submit failed');
      await this.fail({ code: sqlstateOf(code), message: isAppError(e) ? e.message : 'internal error', detail: `Countersign error ${code}` }, mode);
      return false;
    }
    switch (action.status) {
      case 'running': {
        // The running state committed before anything is forwarded (at most once). The client
        // has PostgreSQL's answer as soon as it came; its record is written meanwhile (a crash
        // before it commits leaves the action marked interrupted by recovery, never re-run).
        let ran: ((r: 'ok' | 'failed' | 'not-run') => void) | undefined;
        const finished = new Promise<'ok' | 'failed' | 'not-run'>((resolve) => (ran = resolve));
        this.gate
          .complete(action, async (a) => {
            const r = await this.run(a, via);
            ran?.(r.ok ? 'ok' : 'failed');
            return r;
          })
          .catch((e: unknown) => {
            this.log.error({ err: e, actionId: action.id }, 'recording a wire execution failed');
            ran?.('not-run');
          });
        const outcome = await finished;
        ran = undefined;
        if (outcome === 'not-run') await this.fail({ code: SQLSTATE.INTERNAL_ERROR, message: 'the statement could not be run', detail: `Countersign action ${action.id}` }, mode);
        return outcome === 'ok';
      }
      case 'denied':
        await this.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: `denied by policy: ${action.decision.reason}`, detail: `Countersign action ${action.id} (rules: ${action.decision.rules.join(', ') || 'default'})` }, mode);
        return false;
      case 'pending':
        return this.hold(action, via);
      case 'approved':
      case 'cancelled':
      case 'expired':
      case 'failed':
      case 'succeeded':
        await this.fail({ code: SQLSTATE.INTERNAL_ERROR, message: `the action is ${action.status}`, detail: `Countersign action ${action.id}` }, mode);
        return false;
    }
  }

  /** Runs an action on this session's upstream connection, relaying PostgreSQL's answer: the executor of wire actions. */
  private async run(a: ActionRecord, via: Via): Promise<ExecutorResult> {
    if (this.closed) return executionFailure('ABORTED', 'the client disconnected before the statement ran; nothing was run');
    let relay: UpstreamRelay;
    try {
      relay = await this.upstream();
    } catch (e) {
      return executionFailure('CONNECTION_FAILED', `cannot connect to target "${this.db.target.name}": ${(e as Error).message}; nothing was run`);
    }
    const masking = this.db.target.mask.length > 0;
    const statement = String((a.input as { statement?: unknown }).statement);
    // An approved preview binds what runs: the answer is held back until the row counts
    // compare (checkDrift), and on drift the transaction the statement ran in is rolled back.
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
    this.running = true;
    let out: Outcome;
    try {
      if (wrap) await control('BEGIN');
      if (via.mode === 'query') {
        out = await relay.send(serialize.query(statement), 'query', {
          holdReady: true,
          ...(buffer ? { buffer } : {}),
          ...(masking ? { maskFromFields: (fields) => this.gate.maskFor(this.db.target, statement, fields) } : {}),
        });
      } else {
        let mask: SendOptions['mask'];
        if (masking) {
          // The rows of an Execute come without a RowDescription: the gateway asks for one, for itself.
          const d = relay.send(serialize.describe({ type: 'P', name: via.portal }), 'describe', { swallow: true });
          void relay.send(serialize.flush(), undefined);
          const fields = (await d).fields ?? [];
          const masked = fields.length ? await this.gate.maskFor(this.db.target, statement, fields).catch(() => fields.map(() => true)) : [];
          mask = masked.some(Boolean) ? { masked, fields } : undefined;
        }
        const p = relay.send(via.raw, 'execute', { ...(mask ? { mask } : {}), ...(buffer ? { buffer } : {}) });
        void relay.send(serialize.flush(), undefined);
        out = await p;
      }
      if (bound && out.status === 'ok') {
        const verdict = checkDrift({ ...bound, summary: { ...bound.summary, changes: undefined } }, out.tags.map(rowsOf), a.drift, bound.summary.schemaDiffHash);
        if (!verdict.ok) {
          // Nothing of it reaches the client; the (implicit or explicit) transaction is undone.
          if (wrap) await control('ROLLBACK');
          else await this.abortUpstream(via.mode === 'query' ? 'query' : 'extended');
          return executionFailure('DRIFT', verdict.message);
        }
      }
      if (wrap) {
        const end = await control(out.status === 'ok' ? 'COMMIT' : 'ROLLBACK');
        if (end.status !== 'ok') out = end;
      }
      for (const b of buffer ?? []) this.write(b);
    } finally {
      this.running = false;
    }
    this.relayedError = out.status === 'error';
    if (out.status === 'ok') return { ok: true, body: { via: 'pgwire', commands: out.tags }, bodyEncoding: 'json' };
    if (out.status === 'skipped') return executionFailure('ABORTED', 'PostgreSQL skipped the statement after an earlier error in the same batch');
    return executionFailure('EXECUTION_FAILED', `${out.error?.message ?? 'failed'} (SQLSTATE ${out.error?.code ?? 'XX000'})`);
  }

  /** A statement that needs review: the client waits (or, inside a transaction, is refused if so configured). */
  private async hold(action: ActionRecord, via: Via): Promise<boolean> {
    const mode = via.mode === 'query' ? 'query' : 'extended';
    const inTransaction = this.status !== 'I';
    if (inTransaction && this.db.config.heldInTransaction === 'refuse') {
      await this.gate.cancel(this.who, action.id).catch(() => undefined);
      this.log.info({ actionId: action.id }, 'wire statement needing review refused inside a transaction; action cancelled');
      await this.fail(
        {
          code: SQLSTATE.ACTIVE_SQL_TRANSACTION,
          message: `this statement needs review (Countersign action ${action.id}) and cannot wait inside a transaction block`,
          hint: 'Run it outside BEGIN ... COMMIT; this transaction is aborted: ROLLBACK it. The action was cancelled.',
        },
        mode,
      );
      return false;
    }
    await this.settle();
    this.write(noticeResponse(reviewNotice(action, this.gate.approveHint(action.id))));
    let ranHere = false;
    const final = await new Promise<ActionRecord>((resolve) => {
      let settled = false;
      const done = (a: ActionRecord) => {
        if (settled) return;
        settled = true;
        unwatch();
        detach();
        this.waiting = undefined;
        resolve(a);
      };
      const detach = this.gate.attach(action.id, (a) => {
        ranHere = true;
        return this.run(a, via);
      });
      const unwatch = this.gate.watch(action.id, (a) => {
        if (isFinal(a.status)) done(a);
      });
      this.waiting = {
        id: action.id,
        inTransaction,
        stop: async (reason) => {
          const keep = reason === 'gone' && !inTransaction && this.db.config.onDisconnect === 'keep';
          if (keep) {
            detach();
            this.log.info({ actionId: action.id }, 'wire client disconnected while its statement waited for review: the action is kept pending (it runs on its own connection if approved)');
            done({ ...action, status: 'cancelled' });
            return;
          }
          const c = await this.gate.cancel(this.who, action.id).catch(() => undefined);
          this.log.info({ actionId: action.id, reason }, reason === 'gone' ? 'wire client disconnected while its statement waited for review: the action was cancelled' : 'wire client cancelled its statement waiting for review: the action was cancelled');
          if (c) done(c);
        },
      };
      void this.gate.get(action.id).then((a) => a && isFinal(a.status) && done(a));
    });
    if (this.closed) return false;
    switch (final.status) {
      case 'succeeded':
        return true;
      case 'failed': {
        if (ranHere && this.relayedError) return false;
        const code = final.result?.error?.code ?? final.result?.reason;
        const sqlstate = code === 'ABORTED' ? SQLSTATE.QUERY_CANCELED : code === 'DRIFT' || code === 'PREVIEW_UNAVAILABLE' ? SQLSTATE.INSUFFICIENT_PRIVILEGE : SQLSTATE.INTERNAL_ERROR;
        await this.fail({ code: sqlstate, message: `the approved statement was not run: ${final.result?.error?.message ?? 'unknown error'}`, detail: `Countersign action ${final.id} (${code ?? 'failed'})` }, mode);
        return false;
      }
      case 'cancelled':
        await this.fail(
          this.cancelRequested
            ? { code: SQLSTATE.QUERY_CANCELED, message: 'canceling statement due to user request', detail: `Countersign action ${final.id} was cancelled` }
            : { code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: 'the statement was cancelled while it waited for review', detail: `Countersign action ${final.id}` },
          mode,
        );
        this.cancelRequested = false;
        return false;
      case 'denied': {
        const comment = final.review?.reviews.find((r) => r.verdict === 'deny')?.comment;
        await this.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: `denied by reviewers${comment ? `: ${comment}` : ''}`, detail: `Countersign action ${final.id}` }, mode);
        return false;
      }
      case 'expired':
        await this.fail({ code: SQLSTATE.INSUFFICIENT_PRIVILEGE, message: 'the review expired before the statement was approved', detail: `Countersign action ${final.id}` }, mode);
        return false;
      case 'approved':
      case 'pending':
      case 'running':
        await this.fail({ code: SQLSTATE.INTERNAL_ERROR, message: `the action is ${final.status}`, detail: `Countersign action ${final.id}` }, mode);
        return false;
    }
  }

  /** A CancelRequest for this session: a statement waiting for review is withdrawn, a running one is cancelled upstream. */
  async cancel(): Promise<void> {
    if (this.waiting) {
      this.cancelRequested = true;
      await this.waiting.stop('cancel');
      return;
    }
    if (this.running && this.relay) await this.gate.cancelUpstream(this.db.target, this.relay.up.pid);
  }

  /** The client went away: what waits is kept or cancelled as configured; the upstream connection is returned or closed. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.waiting) await this.waiting.stop('gone');
      if (this.running && this.relay) await this.gate.cancelUpstream(this.db.target, this.relay.up.pid);
    } finally {
      const r = this.relay;
      if (r && !r.lost) {
        if (this.running || r.pending > 0) r.up.destroy();
        else this.gate.upstreams.release(this.db.target, this.who.id, r.up);
      }
      this.onEnd();
    }
  }
}

/** Rows a CommandComplete tag reports for DML (`UPDATE 3`, `INSERT 0 5`); null for anything else. */
function rowsOf(tag: string): number | null {
  const m = /^(INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$/.exec(tag);
  return m ? Number(m[2]) : null;
}
