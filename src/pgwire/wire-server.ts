import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import { createServer } from 'node:net';
import type { SecureContext } from 'node:tls';
import { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { Principal } from '../domain/identity.js';
import type { ClientMessage } from './client-messages.js';
import { decodeClientMessage } from './client-messages.js';
import { authenticationOk, backendKeyData, errorResponse, negotiateProtocolVersion, parameterStatus, readyForQuery } from './server-messages.js';
import { decodeStartupPacket } from './startup-packet.js';
import { WireAuth } from './wire-auth.js';
import { SQLSTATE, WireProtocolError } from './wire-errors.js';
import { FrameReader } from './wire-frame.js';
import type { WireGate } from './wire-gate.js';
import { WireSession } from './wire-session.js';

export interface WireServerOptions {
  host: string;
  port: number;
  tls?: SecureContext;
  requireTls: boolean;
  maxConnections: number;
  maxMessageBytes: number;
  authTimeoutMs: number;
}

export interface WireServer {
  /** host:port the server listens on. */
  address: string;
  close(): Promise<void>;
}

/** PostgreSQL's own limit on the start-up packet. */
const STARTUP_LIMIT = 10_000;
/** Parameters relayed from upstream at start-up; the rest would describe the gateway's upstream login, not the client's. */
const RELAYED = ['server_version', 'server_encoding', 'client_encoding', 'DateStyle', 'IntervalStyle', 'TimeZone', 'integer_datetimes', 'standard_conforming_strings'];

const TYPE_P = 0x70;

/** Listens for PostgreSQL clients: start-up, TLS, authentication, then a WireSession per connection. */
export async function startWireServer(gate: WireGate, opts: WireServerOptions, log: Logger): Promise<WireServer> {
  const sessions = new Map<number, { key: number; session: WireSession }>();
  const sockets = new Set<Socket>();

  function onConnection(raw: Socket): void {
    raw.setNoDelay(true);
    raw.on('error', () => undefined);
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    if (sockets.size > opts.maxConnections) {
      raw.end(errorResponse({ severity: 'FATAL', code: SQLSTATE.TOO_MANY_CONNECTIONS, message: 'sorry, too many clients already' }));
      return;
    }
    const client = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    let socket: Socket = raw;
    let tls = false;
    const reader = new FrameReader({ startupBytes: STARTUP_LIMIT, messageBytes: opts.maxMessageBytes });
    let auth: WireAuth | undefined;
    let user = '';
    let database = '';
    let session: WireSession | undefined;
    let busy: Promise<void> = Promise.resolve();
    const timer = setTimeout(() => fatal(SQLSTATE.PROTOCOL_VIOLATION, 'authentication timed out'), opts.authTimeoutMs);
    timer.unref();

    function fatal(code: string, message: string): void {
      clearTimeout(timer);
      if (!socket.destroyed) socket.end(errorResponse({ severity: 'FATAL', code, message }));
      setTimeout(() => socket.destroy(), 1000).unref();
    }

    const onData = (chunk: Buffer) => {
      let frames;
      try {
        frames = reader.push(chunk);
      } catch (e) {
        return protocolError(e);
      }
      if (session) {
        try {
          session.receive(frames.map((f) => ({ m: decodeClientMessage(f), raw: rawOf(f.body) })));
        } catch (e) {
          protocolError(e);
        }
        return;
      }
      // Start-up and authentication run one message at a time, in order.
      for (const f of frames) {
        busy = busy
          .then(() => {
            if (socket.destroyed) return;
            // Messages sent right behind the last authentication message go to the session.
            if (session) return session.receive([{ m: decodeClientMessage(f), raw: rawOf(f.body) }]);
            return beforeSession(f.type, f.body);
          })
          .catch(protocolError);
      }
    };

    function protocolError(e: unknown): void {
      if (e instanceof WireProtocolError) {
        log.info({ client, reason: e.message }, 'wire protocol violation; connection closed');
        return fatal(e.code, e.message);
      }
      log.error({ err: e, client }, 'wire connection failed');
      fatal(SQLSTATE.INTERNAL_ERROR, 'internal error in the gateway');
    }

    async function beforeSession(type: number, body: Buffer): Promise<void> {
      if (type === 0) return startup(body);
      if (!auth) throw new WireProtocolError(`unexpected message type ${type} before authentication`);
      if (type !== TYPE_P) throw new WireProtocolError(`expected password response, got message type ${type}`);
      const step = await auth.next(body);
      if (step.done === null) {
        await gate.recordLogin({ user, database, outcome: 'failed', method: auth.method, client, tls }).catch((e: unknown) => log.error({ err: e }, 'recording a wire login failed'));
        log.info({ client, user }, 'wire authentication failed');
        return fatal(SQLSTATE.INVALID_PASSWORD, `password authentication failed for user "${user}"`);
      }
      if (step.reply) socket.write(step.reply);
      if (step.done) await authenticated(step.done, auth.method);
    }

    async function startup(body: Buffer): Promise<void> {
      const p = decodeStartupPacket(body);
      if (p.type === 'ssl') {
        if (!opts.tls || tls) return void socket.write('N');
        if (reader.buffered > 0) throw new WireProtocolError('unexpected data after SSLRequest');
        socket.write('S');
        socket.off('data', onData);
        const secure = new TLSSocket(socket, { isServer: true, secureContext: opts.tls });
        secure.on('error', () => socket.destroy());
        secure.on('data', onData);
        secure.once('close', () => raw.destroy());
        socket = secure;
        tls = true;
        return;
      }
      if (p.type === 'gssenc') return void socket.write('N');
      if (p.type === 'cancel') {
        const s = sessions.get(p.pid);
        const keyOk = s !== undefined && sameKey(s.key, p.key);
        socket.destroy();
        if (keyOk) await s.session.cancel().catch((e: unknown) => log.error({ err: e }, 'wire cancel failed'));
        return;
      }
      reader.startup = false;
      if (p.minor !== 0 || p.unknownOptions.length) socket.write(negotiateProtocolVersion(0, p.unknownOptions));
      user = p.params.user ?? '';
      database = p.params.database || user;
      if (!user) throw new WireProtocolError('no PostgreSQL user name specified in startup packet', SQLSTATE.INVALID_AUTHORIZATION);
      if (opts.requireTls && !tls) throw new WireProtocolError('SSL is required: connect with sslmode=require', SQLSTATE.INVALID_AUTHORIZATION);
      auth = new WireAuth(gate.identities, user, tls);
      socket.write(auth.start());
    }

    async function authenticated(who: Principal, method: string): Promise<void> {
      const db = gate.databases.get(database);
      if (!db) {
        await gate.recordLogin({ user, database, outcome: 'unknown-database', method, client, tls }).catch((e: unknown) => log.error({ err: e }, 'recording a wire login failed'));
        return fatal(SQLSTATE.INVALID_CATALOG_NAME, `database "${database}" does not exist`);
      }
      let params: ReadonlyMap<string, string>;
      try {
        params = await gate.upstreams.parameters(db.target, who.id);
      } catch (e) {
        log.warn({ client, database, err: (e as Error).message }, 'wire client could not be served: upstream unreachable');
        return fatal(SQLSTATE.SQLCLIENT_UNABLE_TO_CONNECT, `cannot connect to the database behind "${database}"`);
      }
      await gate.recordLogin({ user, database, outcome: 'ok', method, client, tls });
      clearTimeout(timer);
      let pid = randomInt(1, 2 ** 31 - 1);
      while (sessions.has(pid)) pid = randomInt(1, 2 ** 31 - 1);
      const key = randomBytes(4).readInt32BE();
      const s = new WireSession(socket, gate, who, { name: database, ...db }, log.child({ wire: { client, user: who.id, database } }), client, () => sessions.delete(pid));
      sessions.set(pid, { key, session: s });
      const out = [authenticationOk()];
      for (const name of RELAYED) {
        const v = params.get(name);
        if (v !== undefined) out.push(parameterStatus(name, v));
      }
      out.push(parameterStatus('session_authorization', who.id), parameterStatus('is_superuser', 'off'), backendKeyData(pid, key), readyForQuery('I'));
      socket.write(Buffer.concat(out));
      session = s;
      socket.once('close', () => void s.close());
      log.info({ client, user: who.id, database, tls }, 'wire client connected');
    }

    raw.on('data', onData);
  }

  const server: Server = createServer(onConnection);
  server.on('error', (e) => log.error({ err: e }, 'wire server error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address();
  const address = typeof a === 'object' && a ? `${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}` : `${opts.host}:${opts.port}`;
  return {
    address,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) {
          if (!s.destroyed) s.end(errorResponse({ severity: 'FATAL', code: SQLSTATE.ADMIN_SHUTDOWN, message: 'terminating connection due to administrator command' }));
          setTimeout(() => s.destroy(), 500).unref();
        }
      });
      gate.upstreams.close();
    },
  };
}

/** Cancel keys compared in constant time: a secret, like a token. */
function sameKey(a: number, b: number): boolean {
  const x = Buffer.alloc(4);
  const y = Buffer.alloc(4);
  x.writeInt32BE(a);
  y.writeInt32BE(b);
  return timingSafeEqual(x, y);
}

/** The message's bytes as the client sent them (type and length included), for forwarding unchanged. */
function rawOf(body: Buffer): Buffer {
  return Buffer.from(body.buffer, body.byteOffset - 5, body.length + 5);
}

export type { ClientMessage };
