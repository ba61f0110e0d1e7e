import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTlogWitness } from '../../test/fakes/tlog-witness.js';
import type { SqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createSqliteStore } from '../adapters/store/sqlite/sqlite-store.js';
import { createDirectoryWitness, readWitnessDirectory } from '../adapters/witness/directory-witness.js';
import { createHttpWitness } from '../adapters/witness/http-witness.js';
import { parseNote, parseVerifierKey, signerFromSeed, verifyCosignature } from '../domain/signed-note.js';
import type { Witness } from '../ports/witness.js';
import { createCheckpointService } from './checkpoint-service.js';
import { createWitnessService } from './witness-service.js';

let dir: string;
let store: SqliteStore;
const clock = { now: () => new Date() };
const signer = signerFromSeed('audit.test/log', randomBytes(32));
const entry = (i: number) => ({ type: 'policy.loaded' as const, ts: new Date().toISOString(), data: { version: `v${i}` } });
let n = 0;

async function grow(k: number): Promise<void> {
  await store.appendAudit(Array.from({ length: k }, () => entry(n++)));
  await createCheckpointService({ log: store, store, signer, trusted: [], clock, maxEntries: 1, maxDelayMs: 0, slackMs: 0 }).tick();
}

const errors: Array<[string, unknown]> = [];
const service = (witnesses: Witness[], instance = 'p1') => createWitnessService({ log: store, witnesses, origin: signer.name, clock, instance, onError: (e, w) => errors.push([w, e]) });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-witness-'));
  store = createSqliteStore({ path: join(dir, 'c.db'), writer: 'inline' });
  errors.length = 0;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('witnessing checkpoints', () => {
  it('copies every checkpoint to a witness folder, once, and resumes where it stopped', async () => {
    const folder = join(dir, 'w');
    const w = createDirectoryWitness(folder);
    await grow(3);
    await grow(2);
    await service([w]).tick();
    const sub = join(folder, encodeURIComponent(signer.name));
    expect(readdirSync(sub).sort()).toEqual(['0000000000000003.checkpoint', '0000000000000005.checkpoint', 'latest']);
    expect(readFileSync(join(sub, 'latest'), 'utf8')).toBe((await store.latestCheckpoint())!.note);
    await grow(1);
    await service([w]).tick(); // a new process: the cursor is in the store
    expect(readWitnessDirectory(folder).map((c) => c.source.slice(-22))).toContain('0000006.checkpoint'.padStart(22, '0').slice(-22));
    expect(await store.cursor(`witness:${w.name}`)).toBe(6);
    expect(errors).toEqual([]);
  });

  it('never overwrites a different checkpoint of the same size in the folder, and says so', async () => {
    const folder = join(dir, 'w');
    await grow(3);
    const sub = join(folder, encodeURIComponent(signer.name));
    await service([createDirectoryWitness(folder)]).tick();
    const file = join(sub, '0000000000000003.checkpoint');
    writeFileSync(file, 'another tree of 3\n');
    const fresh = createDirectoryWitness(folder);
    await expect(fresh.push((await store.latestCheckpoint())!, signer.name, { lastSize: 0, proof: () => Promise.resolve([]) })).rejects.toThrow(/different checkpoint/);
    expect(readFileSync(file, 'utf8')).toBe('another tree of 3\n');
  });

  it('sends a C2SP tlog-witness the latest checkpoint with a consistency proof, and keeps its verified cosignature', async () => {
    const fake = await startTlogWitness({ name: 'witness.test/w', logVkey: signer.verifier.text });
    try {
      const w = createHttpWitness({ url: fake.url, key: parseVerifierKey(fake.vkey), timeoutMs: 5000 });
      await grow(5);
      await service([w]).tick();
      await grow(4);
      await grow(3);
      await service([w]).tick();
      expect(fake.requests.map((r) => [r.old, r.size, r.status])).toEqual([
        [0, 5, 200],
        [5, 12, 200],
      ]);
      const latest = (await store.latestCheckpoint())!;
      expect(latest.cosignatures).toHaveLength(1);
      const parsed = parseNote(`${latest.note}${latest.cosignatures[0]}`);
      expect(verifyCosignature(parsed.text, parsed.signatures[1]!, parseVerifierKey(fake.vkey))).toBeDefined();
      expect(errors).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('catches up with a witness that holds another size (409), and reports a witness ahead of the log', async () => {
    const fake = await startTlogWitness({ name: 'witness.test/w', logVkey: signer.verifier.text });
    try {
      const w = createHttpWitness({ url: fake.url, key: parseVerifierKey(fake.vkey), timeoutMs: 5000 });
      await grow(5);
      await w.push((await store.latestCheckpoint())!, signer.name, { lastSize: 0, proof: () => Promise.resolve([]) });
      await grow(2);
      // This process has no cursor for it yet: it says "old 0", learns 5, proves 5 -> 7.
      await service([w]).tick();
      expect(fake.requests.map((r) => [r.old, r.size, r.status])).toEqual([
        [0, 5, 200],
        [0, 7, 409],
        [5, 7, 200],
      ]);
      fake.latest.set(signer.name, { size: 99, root: Buffer.alloc(32) });
      await grow(1);
      await service([w]).tick();
      expect(String(errors.at(-1)?.[1])).toMatch(/holds a checkpoint of 99 entries, more than this log's latest/);
    } finally {
      await fake.close();
    }
  });

  it('a failing witness does not hold up the others', async () => {
    await grow(2);
    const down = createHttpWitness({ url: 'http://127.0.0.1:9/add-checkpoint', timeoutMs: 500 });
    const folder = join(dir, 'w');
    await service([down, createDirectoryWitness(folder)]).tick();
    expect(existsSync(join(folder, encodeURIComponent(signer.name), '0000000000000002.checkpoint'))).toBe(true);
    expect(errors.map(([w]) => w)).toEqual([down.name]);
  });
});
