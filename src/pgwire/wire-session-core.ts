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

/** How a statement reaches upstream: a Query, or the client's own Execute of a bound portal. */
export type Via = { mode: 'query' } | { mode: 'execute'; portal: string; raw: Buffer };

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
  info(): WireSessionInfo;
  write(buf: Buffer): void;
  upstream(): Promise<UpstreamRelay>;
  /** Everything already sent upstream has been answered (and relayed). */
  settle(): Promise<void>;
  fail(f: Failure, mode: 'query' | 'extended'): Promise<void>;
  abortUpstream(mode: 'query' | 'extended'): Promise<void>;
}

