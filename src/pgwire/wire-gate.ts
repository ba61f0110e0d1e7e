import type { ActionRecord } from '../domain/action-record.js';
import type { ExecutorResult } from '../domain/execution-failure.js';
import type { Principal } from '../domain/identity.js';
import type { SqlParseOutcome } from '../domain/sql-tree.js';
import type { Queryable } from '../adapters/sql/postgres-catalog.js';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { DriftVerdict } from '../domain/sql-drift.js';
import type { DriftTolerance, SqlPreview } from '../domain/sql-preview.js';
import type { WireDatabaseConfig } from '../config/postgres-listen-schema.js';
import type { ScramVerifier } from './scram-server.js';
import type { UpstreamPool } from './upstream-pool.js';

/** One statement (or a run of them, as a Query sent them) the client wants to run. */
export interface WireStatement {
  statement: string;
  params?: Array<string | null>;
}

/** What the session knows that changes what a statement means, and what reviewers should see. */
export interface WireSessionInfo {
  database: string;
  searchPath: readonly string[] | undefined;
  role: string | undefined;
  inTransaction: boolean;
  client: string;
}

/**
 * Everything a wire session needs from the rest of the gateway: the same submit, review
 * and execution services as the HTTP API (a way in is a thin translator), the parser,
 * identities and the target's upstream. Built by src/app/pgwire-wiring.ts.
 */
export interface WireGate {
  /** Submits a statement as a `sql` action (allowed ones come back already running, for `complete`). */
  submit(who: Principal, target: string, s: WireStatement, session: WireSessionInfo): Promise<ActionRecord>;
  /** Runs a running action with `run` and records its result; resolves once recorded. */
  complete(running: ActionRecord, run: (a: ActionRecord) => Promise<ExecutorResult>): Promise<ActionRecord>;
  /** Has the action, once approved, run by `run` (on this session's connection); returns the detach. */
  attach(id: string, run: (a: ActionRecord) => Promise<ExecutorResult>): () => void;
  /** The requester withdraws its action; undefined when it had already left pending. */
  cancel(who: Principal, id: string): Promise<ActionRecord | undefined>;
  /** Calls `onChange` with every committed change of the action; returns the unsubscribe. */
  watch(id: string, onChange: (a: ActionRecord) => void): () => void;
  get(id: string): Promise<ActionRecord | undefined>;
  parse(sql: string): SqlParseOutcome;
  /** Which columns of a result to mask (the target's mask rules), or undefined when none may be. */
  maskFor(t: PostgresTargetSettings, sql: string, fields: Array<{ name: string; tableID: number; columnID: number }>): Promise<boolean[]>;
  /**
   * Starts the `sql` kind's drift watch (adapters/sql/sql-drift-watch.ts) on a session's
   * connection, inside the statement's transaction: `after` once the statement ran, then
   * `verdict` on the rows each statement affected.
   */
  watchDrift(q: Queryable, preview: SqlPreview, statement: string): Promise<WireDriftWatch>;
  /** Asks the target to cancel what an upstream backend runs. */
  cancelUpstream(t: PostgresTargetSettings, pid: number): Promise<void>;
  identities: WireIdentities;
  databases: ReadonlyMap<string, { config: WireDatabaseConfig; target: PostgresTargetSettings }>;
  upstreams: UpstreamPool;
  /** Records a log-in attempt in the audit log. */
  recordLogin(entry: { user: string; database: string; outcome: 'ok' | 'failed' | 'unknown-database'; method: string; client: string; tls: boolean }): Promise<void>;
  /** The command a reviewer runs, for the notice sent while a statement waits. */
  approveHint(id: string): string;
}

export interface WireDriftWatch {
  after(): Promise<void>;
  verdict(executedRows: ReadonlyArray<number | null>, tolerance: DriftTolerance | undefined): Promise<DriftVerdict>;
}

export interface WireIdentity {
  principal: Principal;
  /** Present when the token is known in clear (config or environment): SCRAM can be offered. */
  verifier?: ScramVerifier;
}

export interface WireIdentities {
  find(user: string): WireIdentity | undefined;
  /** Checks a cleartext password (over TLS only) against the identity's token, in constant time. */
  checkPassword(user: string, password: string): Promise<Principal | undefined>;
  /** Secret for mock SCRAM exchanges of unknown users. */
  mockSecret: Buffer;
}
