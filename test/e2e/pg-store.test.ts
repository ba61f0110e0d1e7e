// PostgreSQL as the store, end to end with real processes: a SQLite deployment is
// copied into PostgreSQL and the copy proven; the gateway then runs on PostgreSQL;
// `audit verify` and `audit export` read the PostgreSQL log exactly as a SQLite one;
// `migrate --dry-run` lists what would run. The URL's password never shows.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import type { ServerProcess, Workspace } from './harness.js';
import { raw, runCli, startServer, startTarget, until, workspace } from './harness.js';
import { PG_LATEST_VERSION } from '../../src/adapters/store/postgres/pg-migrations.js';

let db: TestDatabase;
let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let vkey: string;
let server: ServerProcess | undefined;
const ids: string[] = [];

const AUDIT = `
audit:
  readerGroups: [admin]
  origin: pg.e2e.example/log
  checkpoints: { maxDelay: 1s }
`;

const pgEnv = () => ({ ...ws.env, DATABASE_URL: db.url });
const password = () => decodeURIComponent(new URL(db.url).password);

async function checkpointAtLeast(s: ServerProcess, size: number): Promise<void> {
  const r = await until(
    () => fetch(`${s.url}/v1/audit/checkpoint`, { headers: { authorization: `Bearer ${ws.tokens.carol}` } }).then(async (res) => ({ status: res.status, text: await res.text() })),
    (x) => x.status === 200 && Number(x.text.split('\n')[1]) >= size,
    15_000,
  );
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  db = await createTestDatabase();
  target = await startTarget();
  ws = workspace(target.url, { extraConfig: AUDIT });
  const key = await runCli(['audit', 'key', '--config', ws.configPath], ws.env);
  expect(key.code).toBe(0);
  vkey = key.stdout.trim();
});

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  await db?.drop();
});

describe('moving a deployment to PostgreSQL', () => {
  it('copies a SQLite store into PostgreSQL and proves the copy: same size, same root, every checkpoint', async () => {
    server = await startServer(ws);
    const agent = server.client(ws.tokens.agent);
    const read = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/app' } });
    await agent.wait(read.id, { timeoutSeconds: 10 });
    const rel = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'v1' } } });
    await server.client(ws.tokens.alice).approve(rel.id, rel.fingerprint);
    await server.client(ws.tokens.bob).approve(rel.id, rel.fingerprint);
    await agent.wait(rel.id, { timeoutSeconds: 10 });
    ids.push(read.id, rel.id);
    await checkpointAtLeast(server, 8);
    await server.stop();
    server = undefined;

    const copy = await runCli(['store', 'copy', '--from', join(ws.dir, 'countersign.db'), '--to', db.url, '--schema', 'cs', '--json']);
    expect(copy.stderr).toBe('');
    expect(copy.code).toBe(0);
    const out = JSON.parse(copy.stdout) as { rows: Record<string, number>; proof: { ok: boolean; size: number; checkpoints: number; problems: string[] } };
    expect(out.proof).toMatchObject({ ok: true, problems: [] });
    expect(out.proof.size).toBeGreaterThanOrEqual(8);
    expect(out.proof.checkpoints).toBeGreaterThanOrEqual(1);
    expect(out.rows).toMatchObject({ actions: 2, audit_entries: out.proof.size });
    expect(copy.stdout + copy.stderr).not.toContain(password());

    // A second copy into the same schema is refused: a copy never merges two logs.
    const again = await runCli(['store', 'copy', '--from', join(ws.dir, 'countersign.db'), '--to', db.url, '--schema', 'cs']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not empty/);
    expect(again.stdout + again.stderr).not.toContain(password());
  });

  it('runs the gateway on the copy: old actions are there, new ones are added to the same log', async () => {
    const text = readFileSync(ws.configPath, 'utf8').replace('store: { sqlite: ./countersign.db }', 'store: { postgres: { url: "${DATABASE_URL}", schema: cs } }');
    writeFileSync(ws.configPath, text);
    const dry = await runCli(['migrate', '--config', ws.configPath, '--dry-run'], pgEnv());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/schema cs: at version \d+; nothing to apply/);

    server = await startServer({ ...ws, env: pgEnv() });
    expect(server.logs.join('\n')).not.toContain(password());
    const agent = server.client(ws.tokens.agent);
    for (const id of ids) expect((await agent.get(id)).status).toBe('succeeded');
    const more = await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: '/repos/acme/other' } });
    expect((await agent.wait(more.id, { timeoutSeconds: 10 })).status).toBe('succeeded');
    const ready = await raw(server.url, '/readyz');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok', database: 'reachable' } });
    const entries = await raw(server.url, '/v1/audit/entries?start=0&end=1000', { token: ws.tokens.carol });
    const seqs = (entries.body.entries as Array<{ seq: number }>).map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i));
    await checkpointAtLeast(server, seqs.length);
    await server.stop();
    server = undefined;
  });

  it('verifies the PostgreSQL log and exports an evidence bundle from it, as from SQLite', async () => {
    const verify = await runCli(['audit', 'verify', '--config', ws.configPath, '--key', vkey], pgEnv());
    expect(verify.stderr).toBe('');
    expect(verify.stdout).toMatch(/^VERIFIED: entries 0 to \d+/m);
    expect(verify.stdout).toContain('PostgreSQL schema cs');
    expect(verify.code).toBe(0);
    const out = join(ws.dir, 'bundle');
    const exp = await runCli(['audit', 'export', '--config', ws.configPath, '--out', out], pgEnv());
    expect(exp.code).toBe(0);
    const bundle = await runCli(['audit', 'verify', '--bundle', out, '--key', vkey]);
    expect(bundle.code).toBe(0);
    expect(bundle.stdout).toMatch(/^VERIFIED/m);
    for (const r of [verify, exp, bundle]) expect(r.stdout + r.stderr).not.toContain(password());
  });

  it('lists the migrations a fresh schema would get, without applying them', async () => {
    writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('schema: cs }', 'schema: fresh }'));
    const dry = await runCli(['migrate', '--config', ws.configPath, '--dry-run'], pgEnv());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/schema fresh: at version 0; would apply:\n {2}1 {2}actions/);
    expect((await db.query("SELECT 1 FROM pg_namespace WHERE nspname = 'fresh'")).rowCount).toBe(0);
    const run = await runCli(['migrate', '--config', ws.configPath], pgEnv());
    const all = Array.from({ length: PG_LATEST_VERSION }, (_, i) => i + 1);
    expect(run.stdout).toContain(`schema fresh: version 0 -> ${PG_LATEST_VERSION} (applied ${all.join(', ')})`);
  });
});
