import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { createSqliteStore as CreateStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import type { packAction as PackAction } from '../../src/adapters/store/sqlite/sqlite-packed-action.js';
import type { createWorkerWriter as CreateWorkerWriter } from '../../src/adapters/store/sqlite/sqlite-worker-writer.js';
import type { Store } from '../../src/ports/store.js';
import { newAction } from './store-fixtures.js';

const built = fileURLToPath(new URL('../../dist/adapters/store/sqlite/sqlite-store.js', import.meta.url));
if (!existsSync(built)) throw new Error('build first (npm test does): dist/ is missing');
const { createSqliteStore } = (await import(built)) as { createSqliteStore: typeof CreateStore };
const { createWorkerWriter } = (await import(built.replace('sqlite-store.js', 'sqlite-worker-writer.js'))) as { createWorkerWriter: typeof CreateWorkerWriter };
const { packAction } = (await import(built.replace('sqlite-store.js', 'sqlite-packed-action.js'))) as { packAction: typeof PackAction };

const dirs: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function open(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'countersign-writer-'));
  dirs.push(dir);
  const s = createSqliteStore({ path: join(dir, 'c.db'), writer: 'worker' });
  stores.push(s);
  return s;
}

describe('the writer thread', () => {
  it('fails only the write whose arguments cannot be sent; the others of the same turn commit', async () => {
    const store = open();
    const bad = newAction();
    await store.insertAction(bad.next, bad.audit);
    const a = newAction();
    // New actions go packed into strings (sqlite-packed-action.ts); an update still goes as its objects.
    const next = { ...bad.next, version: 2, input: { ...bad.next.input, fn: () => 1 } }; // cannot be structured-cloned
    const c = newAction();
    const results = await Promise.allSettled([store.insertAction(a.next, a.audit), store.updateAction(next, 1, []), store.insertAction(c.next, c.audit)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await store.getAction(a.next.id)).toBeDefined();
    expect(await store.getAction(c.next.id)).toBeDefined();
    expect((await store.getAction(bad.next.id))?.version).toBe(1);
    expect(await store.auditSize()).toBe(6);
  });

  it('a write that fails in the thread fails alone, with its error code; the others of its batch commit', async () => {
    const store = open();
    const t = newAction();
    await store.insertAction(t.next, t.audit);
    const a = newAction();
    const c = newAction();
    const results = await Promise.allSettled([store.insertAction(a.next, a.audit), store.updateAction({ ...t.next, version: 5 }, 1, []), store.insertAction(c.next, c.audit)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'INTERNAL' });
    expect((results[0] as PromiseFulfilledResult<{ action: { auditSeqs: number[] } }>).value.action.auditSeqs).toHaveLength(2);
    expect(await store.getAction(a.next.id)).toBeDefined();
    expect(await store.getAction(c.next.id)).toBeDefined();
    expect(await store.auditSize()).toBe(6);
  });

  it('when its thread dies, every pending and later write fails and the writer says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'countersign-writer-'));
    dirs.push(dir);
    const script = join(dir, 'dies.mjs');
    writeFileSync(script, "import { parentPort } from 'node:worker_threads'; parentPort.once('message', () => process.exit(3));\n");
    const writer = createWorkerWriter(pathToFileURL(script), { path: join(dir, 'x.db'), busyTimeoutMs: 100, maxBatch: 8 });
    const a = newAction();
    await expect(writer.submit('insertAction', { action: packAction(a.next, a.audit) })).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(writer.broken()).toMatch(/stopped/);
    await expect(writer.submit('insertAction', { action: packAction(a.next, a.audit) })).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    await writer.drain();
  });

});
