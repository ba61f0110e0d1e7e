import type { Socket } from 'node:net';
import { serialize } from 'pg-protocol';
import type { Logger } from 'pino';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { WireDatabaseConfig } from '../config/postgres-listen-schema.js';
import type { Principal } from '../domain/identity.js';
import type { SearchPath } from '../domain/sql-search-path.js';
import type { ClientMessage } from './client-messages.js';
import { textParam } from './client-messages.js';
import type { Outcome, SendOptions } from './upstream-relay.js';
import { UpstreamRelay } from './upstream-relay.js';
import { commandComplete, errorResponse, noticeResponse, readyForQuery } from './server-messages.js';
import { groupStatements, isPreparedTransaction, sessionAfter, streamsCopy } from './statement-groups.js';
import { decideAndAnswer } from './wire-decision.js';
import { SQLSTATE } from './wire-errors.js';
import type { WireGate, WireSessionInfo } from './wire-gate.js';
import type { Failure, Portal, Prepared, SessionCore, Waiting } from './wire-session-core.js';
import { EMPTY_QUERY } from './wire-session-core.js';

/** Not SQL: PostgreSQL answers a syntax error, which aborts the transaction as the client expects after a refusal. */
const ABORT_TEXT = 'countersign_refused';

/**
 * One client connection after authentication. Every statement is submitted as a `sql`
 * action through the gateway's services; what is allowed is forwarded on the session's
 * own upstream connection and PostgreSQL's answer relayed; what is refused is answered
 * with an ErrorResponse; what needs review waits, then runs here once approved.
 */
export class WireSession implements SessionCore {
  relay: UpstreamRelay | undefined;
  private connecting: Promise<UpstreamRelay> | undefined;
  /** Prepared statements by name; the parse is made once, at the first Execute, and kept with it. */
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private searchPath: SearchPath | undefined;
  private role: string | undefined;
  /** After an error in the extended protocol, messages are skipped until Sync, as PostgreSQL does. */
  private discardUntilSync = false;
  waiting: Waiting | undefined;
  inStatement = false;
  running = false;
  relayedError = false;
  cancelRequested = false;
  readySent = false;
  closed = false;
  /** The client's Sync, sent upstream right behind an allowed Execute (sendSyncBehind); answered once ReadyForQuery is relayed. */
  private presync: Promise<Outcome> | undefined;
  private readonly queue: Array<{ m: ClientMessage; raw: Buffer }> = [];
  private processing = false;

  constructor(
    private readonly socket: Socket,
    readonly gate: WireGate,
    readonly who: Principal,
    readonly db: { name: string; config: WireDatabaseConfig; target: PostgresTargetSettings },
    readonly log: Logger,
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

  get status(): 'I' | 'T' | 'E' {
    return this.relay && !this.relay.lost ? this.relay.up.status : 'I';
  }

  info(): WireSessionInfo {
    return { database: this.db.name, searchPath: this.searchPath, role: this.role, inTransaction: this.status !== 'I', client: this.clientAddress };
  }

  write(buf: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  fatal(code: string, message: string): void {
    this.write(errorResponse({ severity: 'FATAL', code, message }));
    this.socket.end();
  }

  async upstream(): Promise<UpstreamRelay> {
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
  async settle(): Promise<void> {
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
    // Written with whatever comes next (the decided Execute, a Sync, a Flush): the protocol
    // lets a server answer nothing before a Sync or Flush, and PostgreSQL answers in order.
    void relay.send(buf, expect, { defer: true });
  }

  sendSyncBehind(relay: UpstreamRelay): boolean {
    if (this.queue[0]?.m.type !== 'sync' || this.presync || this.discardUntilSync) return false;
    this.queue.shift();
    this.presync = relay.send(serialize.sync(), 'sync');
    return true;
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
  async fail(f: Failure, mode: 'query' | 'extended'): Promise<void> {
    await this.settle();
    // PostgreSQL refused a message of the client's in this batch (a deferred Bind): the
    // client has that error and, as from PostgreSQL, gets nothing more until Sync.
    if (mode === 'extended' && this.relay?.failedUntilSync && this.relay.errorRelayed) return;
    await this.abortUpstream(mode);
    this.write(errorResponse({ code: f.code, message: f.message, ...(f.detail ? { detail: f.detail } : {}), ...(f.hint ? { hint: f.hint } : {}) }));
  }

  /** Aborts the upstream transaction (explicit, or the implicit one of an extended-protocol batch) with an error PostgreSQL raises itself. */
  async abortUpstream(mode: 'query' | 'extended'): Promise<void> {
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
    this.readySent = false;
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
    const groups = groupStatements(sql, parsed.statements);
    for (const g of groups) {
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
      const ok = await decideAndAnswer(this, { statement: g.text }, { mode: 'query', ends: g === groups[groups.length - 1] });
      if (!ok) break;
      Object.assign(this, sessionAfter(g.statements, { searchPath: this.searchPath, role: this.role }));
    }
    if (!this.readySent) this.write(readyForQuery(this.status));
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
    // A message before it that PostgreSQL already refused: PostgreSQL discards until Sync, so
    // does the gateway. What is not answered yet (the Bind, deferred) is not waited for: an
    // allowed Execute goes behind it, in order, and a refusal is written after its answer (fail).
    if (this.relay?.failedUntilSync || this.discardUntilSync) return;
    portal.decided = true;
    const ok = await decideAndAnswer(this, { statement: sql, params: portal.params }, { mode: 'execute', portal: name, raw, ends: true });
    if (!ok) this.discardUntilSync = true;
    else if (parsed.ok) Object.assign(this, sessionAfter(parsed.statements, { searchPath: this.searchPath, role: this.role }));
    const synced = this.presync;
    if (synced) {
      // The Sync that followed went with the Execute: the batch is over.
      this.presync = undefined;
      this.discardUntilSync = false;
      await synced;
    }
  }

  /** A CancelRequest for this session: a statement waiting for review is withdrawn, a running one is cancelled upstream. */
  async cancel(): Promise<void> {
    // A statement being decided does not start; one waiting for review is withdrawn; one
    // running is cancelled upstream, and PostgreSQL answers it 57014 as it would directly.
    if (this.inStatement) this.cancelRequested = true;
    if (this.waiting) {
      await this.waiting.stop('cancel');
      return;
    }
    // Also what upstream runs outside a decided statement (a continued portal, BEGIN...).
    if (this.relay && !this.relay.lost && (this.running || this.relay.pending > 0)) await this.gate.cancelUpstream(this.db.target, this.relay.up.pid);
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
