import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { leafHash } from '../domain/audit-entry.js';
import { openCheckpoint, signCheckpoint } from '../domain/checkpoint.js';
import { signerFromSeed } from '../domain/signed-note.js';
import { createCheckpointService } from './checkpoint-service.js';

let dir: string;
let store: SqliteStore;
let now = new Date('2030-01-01T00:00:00.000Z');
const clock = { now: () => now };
const signer = signerFromSeed('audit.test/log', randomBytes(32));
const entry = (i: number) => ({ type: 'policy.loaded' as const, ts: now.toISOString(), data: { version: `v${i}` } });
const service = (o: { maxEntries?: number; maxDelayMs?: number } = {}) =>
  createCheckpointService({ log: store, store, signer, trusted: [], clock, maxEntries: o.maxEntries ?? 100, maxDelayMs: o.maxDelayMs ?? 10_000, slackMs: 1000 });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-cp-'));
  store = createSqliteStore({ path: join(dir, 'c.db'), writer: 'inline' });
  now = new Date('2030-01-01T00:00:00.000Z');
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the checkpoint service', () => {
  it('signs nothing for an empty log, then a C2SP checkpoint of the whole log once enough entries wait', async () => {
    const s = service({ maxEntries: 3 });
    expect(await s.tick()).toBeUndefined();
    await store.appendAudit([entry(0), entry(1)]);
    expect(await s.tick()).toBeUndefined();
    await store.appendAudit([entry(2)]);
    const cp = (await s.tick())!;
    expect(cp.size).toBe(3);
    const opened = openCheckpoint(cp.note, [signer.verifier]);
    expect(opened).toMatchObject({ origin: 'audit.test/log', size: 3 });
    expect(Buffer.from(opened.root).equals(Buffer.from(await store.rootAt(3)))).toBe(true);
    expect(await s.tick()).toBeUndefined();
  });

  it('signs when the oldest uncovered entry would otherwise wait longer than the delay', async () => {
    const s = service({ maxDelayMs: 10_000 });
    await store.appendAudit([entry(0)]);
    now = new Date(now.getTime() + 8_000);
    expect(await s.tick()).toBeUndefined();
    now = new Date(now.getTime() + 1_000); // within the tick slack of the deadline
    expect((await s.tick())!.size).toBe(1);
  });

  it('stores one checkpoint per size when several processes sign at once', async () => {
    await store.appendAudit([entry(0), entry(1)]);
    const other = createSqliteStore({ path: join(dir, 'c.db'), writer: 'inline' });
    try {
      const a = service({ maxEntries: 1 });
      const b = createCheckpointService({ log: other, store: other, signer, trusted: [], clock, maxEntries: 1, maxDelayMs: 1, slackMs: 0 });
      const results = await Promise.all([a.tick(), b.tick()]);
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await store.listCheckpoints(0, 10)).map((c) => c.size)).toEqual([2]);
    } finally {
      await other.close();
    }
  });

  it('refuses to sign a log that does not extend the last checkpoint (an entry changed), and signs nothing', async () => {
    const s = service({ maxEntries: 1 });
    await store.appendAudit([0, 1, 2, 3, 4].map(entry));
    expect((await s.tick())!.size).toBe(5);
    await store.close();
    const db = new Database(join(dir, 'c.db'));
    db.exec('DROP TRIGGER audit_entries_no_update');
    const bytes = Buffer.from('{"data":{"version":"forged"},"seq":2,"ts":"x","type":"policy.loaded","v":1}');
    db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = 2').run(bytes, leafHash(bytes));
    db.close();
    store = createSqliteStore({ path: join(dir, 'c.db'), writer: 'inline' });
    await store.appendAudit([entry(5)]);
    await expect(service({ maxEntries: 1 }).tick()).rejects.toMatchObject({ code: 'AUDIT_INCONSISTENT' });
    expect((await store.listCheckpoints(0, 10)).map((c) => c.size)).toEqual([5]);
  });

  it('refuses to go on from a latest checkpoint it does not trust', async () => {
    await store.appendAudit([entry(0)]);
    const stranger = signerFromSeed('audit.test/log', randomBytes(32));
    const forged = signCheckpoint({ origin: 'audit.test/log', size: 1, root: await store.rootAt(1) }, stranger);
    await store.addCheckpoint({ size: 1, root: forged.root, note: forged.note, signedAt: now.toISOString() }, -1);
    await store.appendAudit([entry(1)]);
    await expect(service({ maxEntries: 1 }).tick()).rejects.toMatchObject({ code: 'AUDIT_INCONSISTENT' });
    // A rotated key listed as trusted is fine.
    const rotated = createCheckpointService({ log: store, store, signer, trusted: [stranger.verifier], clock, maxEntries: 1, maxDelayMs: 1, slackMs: 0 });
    expect((await rotated.tick())!.size).toBe(2);
  });
});
