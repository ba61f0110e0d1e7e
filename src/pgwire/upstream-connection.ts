import type { Socket } from 'node:net';
import pg from 'pg';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { Frame } from './wire-frame.js';
import { FrameReader } from './wire-frame.js';

/** A server message from upstream: its frame and its bytes as sent (relayed unchanged unless masked). */
export interface UpstreamMessage extends Frame {
  raw: Buffer;
}

export interface UpstreamConnection {
  /** The backend's pid (for pg_cancel_backend). */
  readonly pid: number;
  /** The transaction status of the last ReadyForQuery: I idle, T in a transaction, E failed transaction. */
  status: 'I' | 'T' | 'E';
  /** The server's parameters reported at start-up (server_version, client_encoding...). */
  readonly parameters: ReadonlyMap<string, string>;
  readonly closed: boolean;
  write(buf: Buffer): void;
  /** Where messages go; one listener at a time (the session holding the connection). */
  listen(onMessages: (m: UpstreamMessage[]) => void, onClose: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  destroy(): void;
}

/** Server messages can be large (a DataRow of a wide row): bounded like PostgreSQL's own 1 GB field limit. */
const SERVER_MESSAGE_LIMIT = 1024 * 1024 * 1024;

/**
 * Opens a connection to the target as node-postgres does (its URL, TLS settings and
 * SCRAM/MD5/password authentication, which a client must implement and which pg already
 * does well), then takes over the socket to relay the wire protocol message by message:
 * node-postgres has no raw pass-through mode, and parsing every row into JavaScript
 * values only to encode them again would cost the throughput this gateway is for.
 */
export async function connectUpstream(t: PostgresTargetSettings, applicationName: string): Promise<UpstreamConnection> {
  const client = new pg.Client({
    connectionString: t.url,
    ...(t.tls !== undefined ? { ssl: t.tls } : {}),
    application_name: applicationName,
    // The target's limit, as its executor applies it: sent at start-up, so it is also what DISCARD ALL restores.
    statement_timeout: t.limits.statementTimeoutMs,
    connectionTimeoutMillis: 10_000,
  });
  const parameters = new Map<string, string>();
  const con = (client as unknown as { connection: { on(e: string, f: (m: { parameterName: string; parameterValue: string }) => void): void; stream: Socket } }).connection;
  con.on('parameterStatus', (m) => parameters.set(m.parameterName, m.parameterValue));
  client.on('error', () => undefined);
  await client.connect();
  const socket = con.stream;
  // From here on the bytes are ours: node-postgres's parser leaves the socket.
  socket.removeAllListeners('data');
  const reader = new FrameReader({ startupBytes: 0, messageBytes: SERVER_MESSAGE_LIMIT }, false);
  let listener: ((m: UpstreamMessage[]) => void) | undefined;
  let closeListener: ((err?: Error) => void) | undefined;
  let closed = false;
  let corked = false;
  let lastError: Error | undefined;
  const pid = (client as unknown as { processID: number }).processID;
  const up: UpstreamConnection = {
    pid,
    status: 'I',
    parameters,
    get closed() {
      return closed;
    },
    write(buf) {
      if (closed) return;
      // What is written in one tick (Bind, Execute, Flush...) leaves in one system call.
      if (!corked) {
        corked = true;
        socket.cork();
        process.nextTick(() => {
          corked = false;
          socket.uncork();
        });
      }
      socket.write(buf);
    },
    listen(onMessages, onClose) {
      listener = onMessages;
      closeListener = onClose;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    destroy() {
      if (closed) return;
      closed = true;
      socket.destroy();
    },
  };
  socket.on('data', (chunk: Buffer) => {
    let frames: Frame[];
    try {
      frames = reader.push(chunk);
    } catch (e) {
      lastError = e as Error;
      up.destroy();
      return;
    }
    const out: UpstreamMessage[] = frames.map((f) => {
      const raw = Buffer.from(f.body.buffer, f.body.byteOffset - 5, f.body.length + 5);
      if (f.type === 0x5a) up.status = String.fromCharCode(f.body[0]!) as 'I' | 'T' | 'E';
      return { ...f, raw };
    });
    if (out.length) listener?.(out);
  });
  socket.on('error', (e: Error) => (lastError = e));
  socket.on('close', () => {
    closed = true;
    closeListener?.(lastError);
  });
  return up;
}
