import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { proveCopy } from './copy-proof.js';

let dir: string;
const open: SqliteStore[] = [];
const store = (name: string, readOnly = false) => {
  const s = createSqliteStore({ path: join(dir, name), writer: 'inline', ...(readOnly ? { readOnly } : {}) });
  open.push(s);
  return s;
};
const draft = (i: number) => ({ type: 'policy.loaded' as const, ts: new Date(1_900_000_000_000 + i).toISOString(), data: { version: `v${i}` } });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-proof-'));
  const s = store('source.db');
  await s.appendAudit(Array.from({ length: 40 }, (_, i) => draft(i)));
  await s.addCheckpoint({ size: 40, root: await s.rootAt(40), note: 'n\n', signedAt: new Date().toISOString() }, -1);
  await s.close();
  copyFileSync(join(dir, 'source.db'), join(dir, 'target.db'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('the proof of a copied log', () => {
  it('holds for an exact copy: size, root and checkpoints agree', async () => {
    const p = await proveCopy(store('source.db', true), store('target.db', true));
    expect(p).toMatchObject({ ok: true, size: 40, checkpoints: 1, problems: [] });
  });

  it('fails, naming the entry, when an entry of the target was changed on the way', async () => {
    const raw = new Database(join(dir, 'target.db'));
    raw.exec('DROP TRIGGER audit_entries_no_update');
    raw.prepare("UPDATE audit_entries SET bytes = CAST(replace(CAST(bytes AS TEXT), 'v7\"', 'v8\"') AS BLOB) WHERE seq = 7").run();
    raw.close();
    const p = await proveCopy(store('source.db', true), store('target.db', true));
    expect(p.ok).toBe(false);
    expect(p.problems).toContain("entry 7: its stored leaf hash is not the hash of its bytes");
  });

  it('fails when the target holds fewer entries or checkpoints than the source', async () => {
    const raw = new Database(join(dir, 'target.db'));
    raw.exec('DROP TRIGGER audit_entries_no_delete; DROP TRIGGER audit_checkpoints_no_delete; DELETE FROM audit_entries WHERE seq = 39; DELETE FROM audit_checkpoints');
    raw.close();
    const p = await proveCopy(store('source.db', true), store('target.db', true));
    expect(p.ok).toBe(false);
    expect(p.problems).toEqual(expect.arrayContaining(['the target holds 39 entries, the source 40', 'the target holds 0 checkpoints, the source 1']));
  });
});
