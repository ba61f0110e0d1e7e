import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transpileSrc } from '../conformance/transpile-src.js';
import type { TestDatabase } from '../support/pg-database.js';
import { createTestDatabase } from '../support/pg-database.js';
import { databaseState } from './pg-state.js';
import { previewerFor, SHOP_SCHEMA } from './sql-fixture.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.query(SHOP_SCHEMA);
});
afterAll(() => db.drop());

async function until<T>(what: string, f: () => Promise<T | null>, tries = 300): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const v = await f();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a preview that does not finish leaves the database as it was', () => {
  it('on timeout: rolled back, status timeout, rows from the planner marked as estimates', async () => {
    const p = previewerFor(db, { preview: { timeout: '300ms' } });
    try {
      const before = await databaseState(db);
      const r = await p.preview("UPDATE orders SET total = total + 1; UPDATE users SET name = 'slow' WHERE (SELECT true FROM pg_sleep(2))");
      expect(r.status).toBe('timeout');
      expect(r.reason).toMatch(/300 ms/);
      for (const s of r.statements) {
        expect(typeof s.rows).toBe('number');
        expect(s.estimated).toBe(true);
      }
      expect(r.statements).toHaveLength(2);
      expect(await databaseState(db)).toBe(before);
    } finally {
      await p.close();
    }
  });

  it('when the previewing process is SIGKILLed mid-preview, the server rolls back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-preview-kill-'));
    try {
      transpileSrc(dir);
      writeFileSync(
        join(dir, 'child.mjs'),
        `import { createPostgresTargets } from './src/adapters/sql/postgres-targets.js';
const t = createPostgresTargets({ db: { url: process.env.DB_URL, preview: { timeout: '120s' } } });
await t.previewer.preview({ target: 'db', input: { statement: "UPDATE users SET name = 'killed'; SELECT pg_sleep(60)" } });
`,
      );
      const before = await databaseState(db);
      const child = spawn(process.execPath, [join(dir, 'child.mjs')], { env: { ...process.env, DB_URL: db.url }, stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      // The preview is mid-way: its UPDATE ran (the backend holds the row lock) and it sleeps.
      const pid = await until('the preview to be running', async () => {
        const r = await db.query<{ pid: number }>(
          `SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND l.relation = 'users'::regclass AND l.mode = 'RowExclusiveLock'
            WHERE a.datname = current_database() AND a.application_name = 'countersign' AND a.query LIKE '%pg_sleep(60)%' AND a.state = 'active'`,
        );
        return r.rows[0]?.pid ?? null;
      });
      child.kill('SIGKILL');
      await exited;
      await until('the server to end the orphaned preview', async () => {
        const r = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
        return r.rows.length === 0 ? true : null;
      });
      expect(await databaseState(db)).toBe(before);
      const names = await db.query("SELECT count(*)::int AS n FROM users WHERE name = 'killed'");
      expect(names.rows[0]?.n).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
