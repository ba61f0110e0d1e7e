import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from '../e2e/harness.js';
import { startServer, startTarget, workspace } from '../e2e/harness.js';

// The wire gateway end to end: a real `countersign serve` process, the run's private
// PostgreSQL cluster, and real clients (psql from the cluster's own binaries, node-postgres).

export const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: db-reads
    match: { kind: sql, target: "*-db" }
    when: sql.readOnly && !sql.privilege && !("public.users" in sql.tables)
    outcome: allow
  - id: db-session
    match: { kind: sql }
    when: sql.types.all(t, t in ["set", "reset", "show"]) && !sql.privilege
    outcome: allow
  - id: db-writes
    match: { kind: sql }
    when: '!sql.readOnly && !sql.ddl && !sql.privilege && !sql.unbounded && !sql.types.all(t, t in ["set", "reset", "show"])'
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 1h }
  - id: no-drops
    match: { kind: sql }
    when: sql.types.exists(t, t.startsWith("drop_"))
    outcome: deny
    reason: Agents never drop objects
  - id: no-role-changes
    match: { kind: sql }
    when: '"set" in sql.types && sql.privilege'
    outcome: deny
    reason: Role changes are not allowed through the gateway
`;

export const SCHEMA = `
  CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, plan text NOT NULL, churned boolean NOT NULL);
  INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com', CASE WHEN i % 4 = 0 THEN 'pro' ELSE 'team' END, i % 5 = 0
    FROM generate_series(1, 12) i;
  CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);
  CREATE SCHEMA billing;
  CREATE TABLE billing.users (id int PRIMARY KEY, name text NOT NULL);
  INSERT INTO billing.users VALUES (1, 'billing user');
`;

export interface WireEnv {
  db: TestDatabase;
  ws: Workspace;
  server: ServerProcess;
  host: string;
  port: number;
  dir: string;
  close(): Promise<void>;
}

/** A self-signed certificate for localhost, made with openssl for this run. */
export function selfSigned(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

export async function startWireEnv(opts: { extra?: string; tls?: boolean; targets?: string; policy?: string } = {}): Promise<WireEnv> {
  const db = await createTestDatabase();
  await db.query(SCHEMA);
  const target = await startTarget();
  const ws = workspace(target.url, { policy: opts.policy ?? POLICY });
  ws.env.T_SHOP_DB = db.url;
  const tls = opts.tls ? selfSigned(ws.dir) : undefined;
  const text = readFileSync(ws.configPath, 'utf8').replace(
    'targets:\n',
    `targets:\n  shop-db: { kind: postgres, url: "\${T_SHOP_DB}", mask: ["customers.email"], preview: { sampleRows: 5 } }\n${opts.targets ?? ''}`,
  );
  writeFileSync(
    ws.configPath,
    `${text}
postgresListen:
  address: 127.0.0.1:0
${tls ? `  tls: { cert: ${tls.cert}, key: ${tls.key} }\n` : ''}  maxConnections: 300
  databases:
    shop: { target: shop-db, heldInTransaction: hold }
    shop_strict: { target: shop-db }
    shop_keep: { target: shop-db, onDisconnect: keep }
${opts.extra ?? ''}`,
  );
  const server = await startServer(ws);
  const line = server.logs.map((l) => tryJson(l)).find((o) => o?.msg === 'postgres wire gateway listening');
  if (!line) throw new Error(`the wire gateway did not start:\n${server.logs.join('\n')}`);
  const address = String(line.address);
  const i = address.lastIndexOf(':');
  return {
    db,
    ws,
    server,
    host: address.slice(0, i),
    port: Number(address.slice(i + 1)),
    dir: ws.dir,
    async close() {
      await server.stop();
      await target.close();
      ws.cleanup();
      await db.drop();
    },
  };
}

function tryJson(l: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(l) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

export function pgClient(env: WireEnv, user: string, password: string, database = 'shop', extra: Partial<pg.ClientConfig> = {}): pg.Client {
  const c = new pg.Client({ host: env.host, port: env.port, user, password, database, ...extra });
  c.on('error', () => undefined);
  return c;
}

export function psqlPath(env: WireEnv): string {
  return join(env.db.cluster.binDir, 'psql');
}

/** Runs psql to completion against the gateway. */
export function psql(env: WireEnv, args: string[], password: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(psqlPath(env), ['-X', '-v', 'ON_ERROR_STOP=1', ...args], {
      env: { ...process.env, PGPASSWORD: password, PGCONNECT_TIMEOUT: '10', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export function conninfo(env: WireEnv, user: string, database = 'shop', sslmode = 'disable'): string {
  return `host=${env.host} port=${env.port} user=${user} dbname=${database} sslmode=${sslmode}`;
}

/** Sends the protocol's CancelRequest for a node-postgres client's session, on a new connection, as libpq does. */
export function sendCancel(env: WireEnv, c: pg.Client, keyXor = 0): Promise<void> {
  const { processID, secretKey } = c as unknown as { processID: number; secretKey: number };
  return new Promise<void>((resolve) => {
    const s = connect(env.port, env.host, () => {
      const b = Buffer.alloc(16);
      b.writeInt32BE(16, 0);
      b.writeInt32BE(80877102, 4);
      b.writeInt32BE(processID, 8);
      b.writeInt32BE(secretKey ^ keyXor, 12);
      s.end(b);
    });
    s.on('close', () => resolve());
  });
}
