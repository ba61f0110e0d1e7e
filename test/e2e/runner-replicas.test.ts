import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlPreviewOf } from '../../src/domain/action-record.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from './harness.js';
import { runCli, startServer, startTarget, workspace } from './harness.js';
import type { RunnerProcess } from './runner-harness.js';
import { startRunnerProcess } from './runner-harness.js';

// Runners with two gateway replicas on one PostgreSQL store: a runner polls one replica
// and takes the work the other approved, through the store's runner queue; SQL targets
// whose URL only the runner holds are previewed and run on it.
const TOOL = fileURLToPath(new URL('../command/tool.mjs', import.meta.url));
const NODE_DIR = dirname(process.execPath);

const POLICY = `
default: { outcome: deny, reason: Not covered by a rule }
rules:
  - id: prints
    match: { kind: command }
    when: cmd.verb == "print"
    outcome: allow
  - id: bumps
    match: { kind: command }
    when: cmd.verb == "bump"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
  - id: db-reads
    match: { kind: sql }
    when: sql.readOnly
    outcome: allow
  - id: db-writes
    match: { kind: sql }
    when: '!sql.readOnly'
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h }
`;

let store: TestDatabase;
let shop: TestDatabase;
let ws: Workspace;
let target: Awaited<ReturnType<typeof startTarget>>;
let a: ServerProcess;
let b: ServerProcess;
let runnerDir: string;
let runlog: string;
const tokens = { dc1: randomBytes(18).toString('hex'), dc2: randomBytes(18).toString('hex') };
const runners: RunnerProcess[] = [];

function runnerConfig(): string {
  return `store: { sqlite: ./unused.db }
targets:
  remote:
    kind: command
    programs:
      tool: { path: ${TOOL} }
    env: { RUNLOG: ${runlog} }
    path: "/usr/local/bin:/usr/bin:/bin:${NODE_DIR}"
    preview:
      tool: { argv: ["{program}", "preview", "{args}"], when: 'cmd.verb == "bump"' }
    limits: { timeout: 20s }
  shop-db: { kind: postgres, url: "\${T_SHOP_DB}", mask: ["customers.email"] }
log: { level: info }
`;
}

const runner = async (id: 'dc1' | 'dc2', gateway: ServerProcess) => {
  const r = await startRunnerProcess({
    gateway: gateway.url,
    config: join(runnerDir, 'runner.yaml'),
    env: { COUNTERSIGN_RUNNER_TOKEN: tokens[id], T_SHOP_DB: shop.url },
  });
  runners.push(r);
  return r;
};

beforeAll(async () => {
  [store, shop] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  await shop.query(`
    CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
    INSERT INTO customers SELECT i, 'c' || i || '@example.com', CASE WHEN i % 3 = 0 THEN 'pro' ELSE 'team' END FROM generate_series(1, 9) i;
  `);
  target = await startTarget();
  ws = workspace(target.url, {
    policy: POLICY,
    extraConfig: `runners:
  lease: 3s
  claimTimeout: 20s
  list:
    - { id: dc1, token: "\${T_RUNNER1}" }
    - { id: dc2, token: "\${T_RUNNER2}" }
`,
  });
  // The gateways know the targets' shape and who runs them; neither the programs' paths nor the database URL.
  ws.env = { ...ws.env, T_RUNNER1: tokens.dc1, T_RUNNER2: tokens.dc2, DATABASE_URL: store.url };
  writeFileSync(
    ws.configPath,
    readFileSync(ws.configPath, 'utf8')
      .replace('store: { sqlite: ./countersign.db }', 'store: { postgres: { url: "${DATABASE_URL}", schema: gw, pool: { max: 4 } } }')
      .replace(
        'targets:\n',
        'targets:\n  remote: { kind: command, programs: { tool: {} }, runner: [dc1, dc2], limits: { timeout: 20s } }\n  shop-db: { kind: postgres, runner: dc1, mask: ["customers.email"] }\n',
      ),
  );
  runnerDir = mkdtempSync(join(tmpdir(), 'countersign-runner-'));
  runlog = join(runnerDir, 'runlog');
  writeFileSync(join(runnerDir, 'runner.yaml'), runnerConfig());
  a = await startServer(ws);
  b = await startServer(ws);
  // dc1 polls replica A only, dc2 replica B only.
  await runner('dc1', a);
  await runner('dc2', b);
}, 90_000);

afterAll(async () => {
  for (const r of runners) await r.stop();
  await Promise.all([a?.stop(), b?.stop()]);
  await target?.close();
  ws?.cleanup();
  rmSync(runnerDir, { recursive: true, force: true });
  await Promise.all([store?.drop(), shop?.drop()]);
});

const runLines = () => (existsSync(runlog) ? readFileSync(runlog, 'utf8').trim().split('\n').filter(Boolean) : []);
const sql = (statement: string, params?: Array<string | number>) => ({ kind: 'sql' as const, target: 'shop-db', input: params ? { statement, params } : { statement } });
const cmd = (argv: string[]) => ({ kind: 'command' as const, target: 'remote', input: { argv } });
const plans = async () => (await shop.query<{ plan: string }>('SELECT plan FROM customers ORDER BY id')).rows.map((r) => r.plan);

describe('runners and several gateway replicas on one PostgreSQL store', () => {
  it('a SQL write submitted and approved on replica B is previewed and run by the runner polling replica A, which alone holds the URL', async () => {
    expect(readFileSync(ws.configPath, 'utf8')).not.toContain('T_SHOP_DB');
    const submitted = await b.client(ws.tokens.agent).submit(sql("UPDATE customers SET plan = 'free' WHERE plan = 'team' AND id < $1", [5]));
    expect(submitted.status).toBe('pending');
    // The rollback preview ran on the runner, against the database only it can reach.
    const preview = sqlPreviewOf(submitted);
    expect(preview).toMatchObject({ mode: 'rollback', status: 'ok' });
    expect(preview!.summary.rows).toEqual([3]);
    expect(await plans()).toEqual(['team', 'team', 'pro', 'team', 'team', 'pro', 'team', 'team', 'pro']);
    await b.client(ws.tokens.alice).approve(submitted.id, submitted.fingerprint);
    const done = await b.client(ws.tokens.agent).wait(submitted.id, { timeoutSeconds: 30 });
    expect(done.status).toBe('succeeded');
    expect(JSON.stringify(done.result)).toContain('"rowCount":3');
    expect(await plans()).toEqual(['free', 'free', 'pro', 'free', 'team', 'pro', 'team', 'team', 'pro']);
    // A read, allowed, returns rows masked by the runner's own rules.
    const read = await a.client(ws.tokens.agent).submit(sql('SELECT id, email FROM customers WHERE id = 1'), { waitSeconds: 30 });
    expect(read.status).toBe('succeeded');
    expect(JSON.stringify(read.result)).not.toContain('c1@example.com');
  });

  it('a SQL write whose effect drifted between review and run is refused on the runner and changes nothing', async () => {
    const submitted = await a.client(ws.tokens.agent).submit(sql("UPDATE customers SET plan = 'pro' WHERE plan = 'team'"));
    expect(sqlPreviewOf(submitted)!.summary.rows).toEqual([3]);
    await shop.query("INSERT INTO customers VALUES (10, 'late@example.com', 'team')");
    const before = await plans();
    await b.client(ws.tokens.alice).approve(submitted.id, submitted.fingerprint);
    const done = await a.client(ws.tokens.agent).wait(submitted.id, { timeoutSeconds: 30 });
    expect(done.status).toBe('failed');
    expect(done.result).toMatchObject({ reason: 'drift', error: { code: 'DRIFT' } });
    expect(await plans()).toEqual(before);
  });

  it('a command reviewed on replica A and approved on replica B runs once, on a runner, whichever replica it polls', async () => {
    const state = join(runnerDir, 'counter');
    const submitted = await a.client(ws.tokens.agent).submit(cmd(['tool', 'bump', state]));
    expect(submitted.status).toBe('pending');
    expect(submitted.preview).toMatchObject({ mode: 'command', status: 'ok' });
    await b.client(ws.tokens.alice).approve(submitted.id, submitted.fingerprint);
    const done = await a.client(ws.tokens.agent).wait(submitted.id, { timeoutSeconds: 30 });
    expect(done.status).toBe('succeeded');
    expect(readFileSync(state, 'utf8').trim()).toBe('1');
  });

  it('allowed commands submitted on both replicas each run exactly once across the two runners', async () => {
    const before = runLines().length;
    const done = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).client(ws.tokens.agent).submit(cmd(['tool', 'print', `rep-${i}`]), { waitSeconds: 30 })));
    expect(done.map((x) => x.status)).toEqual(Array(10).fill('succeeded'));
    const lines = runLines().slice(before);
    expect(lines).toHaveLength(10);
    for (let i = 0; i < 10; i++) expect(lines.filter((l) => l === JSON.stringify(['print', `rep-${i}`]))).toHaveLength(1);
  });

  it('`countersign runners` on one replica lists the runners polling either replica', async () => {
    const r = await runCli(['runners'], { COUNTERSIGN_URL: a.url, COUNTERSIGN_TOKEN: ws.tokens.alice });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^dc1\s+connected \(1\)/m);
    expect(r.stdout).toMatch(/^dc2\s+connected \(1\)/m);
    expect(r.stdout).toMatch(/serves remote, shop-db/);
  });
});
