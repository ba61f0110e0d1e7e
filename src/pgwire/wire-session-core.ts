import type { Logger } from 'pino';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { WireDatabaseConfig } from '../config/postgres-listen-schema.js';
import type { Principal } from '../domain/identity.js';
import type { SqlParseOutcome } from '../domain/sql-tree.js';
import type { UpstreamRelay } from './upstream-relay.js';
import type { WireGate, WireSessionInfo } from './wire-gate.js';

/** An error the session reports to its client (an ErrorResponse). */
export interface Failure {
  code: string;
  message: string;
  detail?: string;
  hint?: string;
}

/** A prepared statement; the parse is made once, at the first Execute, and kept with it. */
export interface Prepared {
  sql: string;
  parsed?: SqlParseOutcome;
}

export interface Portal {
  prepared: Prepared | undefined;
  params: Array<string | null>;
  binary: boolean;
  /** Decided once: a later Execute of the same portal (after PortalSuspended) continues it. */
  decided: boolean;
}

/**
 * How a statement reaches upstream: a Query, or the client's own Execute of a bound portal.
 * `ends`: when the statement runs at once (allowed at submission), the session writes
 * nothing of its own after its reply, so PostgreSQL's reply may end the client's turn as
 * it is: the last statement of a Query relays PostgreSQL's own ReadyForQuery, and an
 * Execute followed by the client's Sync goes upstream with that Sync (one write each way).
 * A statement run after review never does (the session answers it itself).
 */
export type Via = { mode: 'query'; ends?: boolean } | { mode: 'execute'; portal: string; raw: Buffer; ends?: boolean };

/** A statement waiting for review, and how to stop waiting for it. */
export interface Waiting {
  id: string;
  inTransaction: boolean;
  stop(reason: 'cancel' | 'gone'): Promise<void>;
}

export const EMPTY_QUERY = Buffer.from([0x49, 0, 0, 0, 4]);

export const modeOf = (via: Via): 'query' | 'extended' => (via.mode === 'query' ? 'query' : 'extended');

/**
 * What the parts of a wire session (deciding, running, waiting for review) share: the
 * session's client, upstream connection and flags. WireSession implements it; the
 * parts are functions over it, each in its own file.
 */
export interface SessionCore {
  readonly gate: WireGate;
  readonly who: Principal;
  readonly db: { name: string; config: WireDatabaseConfig; target: PostgresTargetSettings };
  readonly log: Logger;
  readonly relay: UpstreamRelay | undefined;
  readonly closed: boolean;
  /** The transaction status PostgreSQL last reported: I idle, T in a transaction, E failed. */
  readonly status: 'I' | 'T' | 'E';
  waiting: Waiting | undefined;
  /** A statement is being decided, waits for review or runs: a CancelRequest applies to it. */
  inStatement: boolean;
  /** A statement runs upstream (a CancelRequest goes to its backend). */
  running: boolean;
  /** The last run relayed PostgreSQL's own ErrorResponse to the client. */
  relayedError: boolean;
  /** The client sent a CancelRequest for the current statement. */
  cancelRequested: boolean;
  /** PostgreSQL's ReadyForQuery ending the current Query already reached the client (Via `ends`). */
  readySent: boolean;
  /**
   * When the client's next message is a Sync, takes it from the session's queue and sends
   * it upstream now (right behind an Execute); false when the next message is not a Sync.
   */
  sendSyncBehind(relay: UpstreamRelay): boolean;
  info(): WireSessionInfo;
  write(buf: Buffer): void;
  upstream(): Promise<UpstreamRelay>;
  /** Everything already sent upstream has been answered (and relayed). */
  settle(): Promise<void>;
  fail(f: Failure, mode: 'query' | 'extended'): Promise<void>;
  abortUpstream(mode: 'query' | 'extended'): Promise<void>;
}

