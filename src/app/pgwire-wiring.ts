import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { parseStatements } from '../adapters/sql/pg-parse.js';
import { maskForResult } from '../adapters/sql/postgres-mask.js';
import { watchDrift } from '../adapters/sql/sql-drift-watch.js';
import type { PostgresTargetSettings } from '../adapters/sql/postgres-settings.js';
import type { LoadedConfig } from '../config/load.js';
import type { WireDatabaseConfig } from '../config/postgres-listen-schema.js';
import { parseByteSize } from '../domain/byte-size.js';
import { parseDuration } from '../domain/duration.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { Config } from '../config/schema.js';
import type { Authenticator } from '../ports/authenticator.js';
import { scramVerifier } from '../pgwire/scram-server.js';
import { createUpstreamPool } from '../pgwire/upstream-pool.js';
import type { WireGate, WireIdentities, WireIdentity } from '../pgwire/wire-gate.js';
import type { WireServer } from '../pgwire/wire-server.js';
import { startWireServer } from '../pgwire/wire-server.js';
import type { Core } from './main.js';

/**
 * Starts the PostgreSQL wire gateway when the config has `postgresListen`: a way in
 * like the HTTP API, built on the same services (submit, review, execution), parser,
 * targets and identities. Returns undefined without that key.
 */
export async function startPgwire(deps: { loaded: LoadedConfig; core: Core; authenticator: Authenticator; logger?: Logger }): Promise<WireServer | undefined> {
  const { loaded, core } = deps;
  const cfg = loaded.config.postgresListen;
  if (!cfg) return undefined;
  const log = (deps.logger ?? core.logger).child({ component: 'pgwire' });
  if (!core.sql) throw new AppError('CONFIG_INVALID', 'postgresListen: needs at least one target of kind postgres');
  const { parser, targets } = core.sql;
  const databases = new Map<string, { config: WireDatabaseConfig; target: PostgresTargetSettings }>();
  for (const [name, db] of Object.entries(cfg.databases)) {
    const target = targets.settings.get(db.target);
    if (!target) {
      // A runner's target: its connection is on the runner, and the wire gateway needs one here.
      const onRunner = loaded.config.targets[db.target]?.kind === 'postgres';
      throw new AppError('CONFIG_INVALID', `postgresListen.databases.${name}.target: "${db.target}" ${onRunner ? 'is run by a runner; the wire gateway serves only postgres targets the gateway runs itself' : 'is not a target of kind postgres'}`);
    }
    databases.set(name, { config: db, target });
  }
  if (cfg.requireTls && !cfg.tls) throw new AppError('CONFIG_INVALID', 'postgresListen.requireTls: needs postgresListen.tls');
  const base = dirname(loaded.file);
  const tls = cfg.tls ? createSecureContext({ cert: readFileSync(resolve(base, cfg.tls.cert)), key: readFileSync(resolve(base, cfg.tls.key)) }) : undefined;

  const identities = liveIdentities(() => core.live.config(), deps.authenticator);
  const { pools } = targets;
  const gate: WireGate = {
    async submit(who, target, s, session) {
      const input = s.params && s.params.length ? { statement: s.statement, params: s.params } : { statement: s.statement };
      const context = {
        via: 'pgwire',
        database: session.database,
        inTransaction: session.inTransaction,
        client: session.client,
        ...(session.searchPath ? { searchPath: [...session.searchPath] } : {}),
        ...(session.role ? { role: session.role } : {}),
      };
      const r = await core.submit.submit(who, { kind: 'sql', target, input, context }, undefined, {
        inline: true,
        ...(session.searchPath ? { session: { searchPath: session.searchPath } } : {}),
      });
      return r.action;
    },
    async complete(running, run) {
      const detach = core.executions.attach(running.id, run);
      try {
        return await core.executions.complete(running);
      } finally {
        detach();
      }
    },
    attach: (id, run) => core.executions.attach(id, run),
    async cancel(who, id) {
      try {
        return await core.reviews.cancel(who, id);
      } catch (e) {
        if (isAppError(e) && e.code === 'NOT_PENDING') return undefined;
        throw e;
      }
    },
    watch: (id, onChange) =>
      core.events.subscribe((e) => {
        if (e.action.id === id) onChange(e.action);
      }),
    get: (id) => core.store.getAction(id),
    parse: (sql) => parser.parse(sql),
    async maskFor(t, sql, fields) {
      const statements = await parseStatements(sql);
      const client = await pools.primary(t).connect();
      try {
        const out = fields.map(() => false);
        for (const s of statements) {
          const m = await maskForResult(client, t.mask, s, fields);
          m.forEach((v, i) => (out[i] = out[i] || v));
        }
        return out;
      } finally {
        client.release();
      }
    },
    async watchDrift(q, preview, statement) {
      const statements = await parseStatements(statement);
      const watch = await watchDrift(q, preview, statements);
      return { after: () => watch.after(statements), verdict: (rows, tolerance) => watch.verdict(rows, tolerance) };
    },
    cancelUpstream: (t, pid) => pools.cancel(pools.primary(t), pid),
    identities,
    databases,
    upstreams: createUpstreamPool({ idlePerKey: cfg.idleUpstream }),
    async recordLogin(e) {
      const found = identities.find(e.user);
      await core.store.appendAudit([
        {
          type: 'pgwire.login',
          ts: core.clock.now().toISOString(),
          ...(e.outcome === 'ok' && found ? { actor: { type: found.principal.type, id: found.principal.id } } : {}),
          data: { ...e },
        },
      ]);
    },
    approveHint: (id) => `countersign approve ${id} --url ${core.publicUrl.value}`,
  };
  const [host, port] = splitHostPort(cfg.address);
  const server = await startWireServer(
    gate,
    {
      host,
      port,
      ...(tls ? { tls } : {}),
      requireTls: cfg.requireTls,
      maxConnections: cfg.maxConnections,
      maxMessageBytes: parseByteSize(cfg.maxMessageBytes)!,
      authTimeoutMs: parseDuration(cfg.authTimeout),
    },
    log,
  );
  log.info({ address: server.address, databases: [...databases.keys()], tls: !!tls }, 'postgres wire gateway listening');
  return server;
}

/**
 * Agents and humans by id, as the running config has them: a reload (SIGHUP, `countersign
 * reload`) that removes an identity or rotates its token takes effect at the next log-in,
 * as on the HTTP API. A token known in clear gets a SCRAM-SHA-256 verifier, derived once
 * per config; an identity known by its token's hash alone can log in with a cleartext
 * password over TLS only.
 */
function liveIdentities(current: () => Config, authenticator: Authenticator): WireIdentities {
  let of: Config | undefined;
  let byId = new Map<string, WireIdentity>();
  const table = (): Map<string, WireIdentity> => {
    const config = current();
    if (config !== of) {
      of = config;
      byId = identitiesOf(config);
    }
    return byId;
  };
  const find = (user: string) => {
    const t = table();
    return t.get(user) ?? t.get(user.toLowerCase());
  };
  return {
    find,
    async checkPassword(user, password) {
      const id = find(user);
      const p = await authenticator.authenticate(password);
      // The token must be this user's: another identity's token does not log in as this one.
      return p && id && p.type === id.principal.type && p.id.toLowerCase() === id.principal.id.toLowerCase() ? id.principal : undefined;
    },
    mockSecret: randomBytes(32),
  };
}

function identitiesOf(config: Config): Map<string, WireIdentity> {
  const byId = new Map<string, WireIdentity>();
  for (const a of config.agents) {
    const principal: Principal = { type: 'agent', id: a.id, owner: a.owner, labels: a.labels ?? {} };
    byId.set(a.id, { principal, ...(a.token ? { verifier: scramVerifier(a.token) } : {}) });
  }
  for (const h of config.humans) {
    if (!h.token && !h.tokenHash) continue;
    const principal: Principal = { type: 'human', id: h.id, groups: h.groups };
    byId.set(h.id.toLowerCase(), { principal, ...(h.token ? { verifier: scramVerifier(h.token) } : {}) });
  }
  return byId;
}

function splitHostPort(listen: string): [string, number] {
  const i = listen.lastIndexOf(':');
  return [listen.slice(0, i), Number(listen.slice(i + 1))];
}
