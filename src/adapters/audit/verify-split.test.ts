import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../domain/audit-entry.js';
import { leafHash } from '../../domain/audit-entry.js';
import { signCheckpoint } from '../../domain/checkpoint.js';
import { createAction, finishExecution, startExecution } from '../../domain/lifecycle.js';
import { signerFromSeed } from '../../domain/signed-note.js';
import { createSqliteStore } from '../store/sqlite/sqlite-store.js';
import { nodeId } from '../store/sqlite/sqlite-tree.js';
import type { VerifyReport } from './verifier.js';
import { verifyAuditLog } from './verifier.js';
import { planFromDatabase } from './verify-plans.js';
import { splitAt } from './verify-split.js';

// The two halves of `audit verify` (verify-split.ts) must say exactly what one pass in
// order says, whatever was changed and wherever: in the earlier half, in the later one,
// at the split; on logs of any size, powers of two or not.

const signer = signerFromSeed('split.test/log', randomBytes(32));
const now = new Date('2030-01-01T00:00:00.000Z');
const POLICY = `sha256:${'5'.repeat(64)}`;
const RUNNER = { host: 'h', pid: 1, instance: 'i', leaseUntil: '2099-01-01T00:00:00.000Z' };
const dir = mkdtempSync(join(tmpdir(), 'countersign-split-'));
let n = 0;

/** An allowed, executed action's four entries; `decide` mode gives two. */
function actionDrafts(i: number, mode: 'execute' | 'decide' = 'execute'): AuditDraft[] {
  const t = createAction({
    id: `act_split${String(i).padStart(6, '0')}${randomBytes(4).toString('hex')}`,
    request: { kind: 'http', target: 'github', input: { method: 'GET', path: `/r/${i}` }, mode },
    requester: { id: `agent-${i % 3}`, type: 'agent', owner: 'carol@example.com' },
    decision: { outcome: 'allow', rules: ['reads'], policyVersion: POLICY, reason: 'reads', requirements: [] },
    now,
  });
  if (mode === 'decide') return t.audit;
  const s = startExecution(t.next, now, RUNNER);
  const f = finishExecution(s.next, { ok: true, status: 200, headers: {}, body: { i } }, now);
  return [...t.audit, ...s.audit, ...f.audit];
}

const policyLoaded: AuditDraft = { type: 'policy.loaded', ts: now.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: POLICY, file: 'p.yaml', trigger: 'startup', rules: 1, previous: null } };

/** A log of exactly `size` entries (the policy first, then actions; a decide-mode one or a lone policy load to fill), checkpoints signed at `checkpoints`. */
async function buildLog(size: number, checkpoints: number[], drafts?: AuditDraft[]): Promise<string> {
  const path = join(dir, `log-${n++}.db`);
  const store = createSqliteStore({ path, writer: 'inline' });
  const all: AuditDraft[] = drafts ?? [policyLoaded];
  for (let i = 0; !drafts && all.length < size; i++) {
    const left = size - all.length;
    all.push(...(left >= 4 ? actionDrafts(i) : left >= 2 ? actionDrafts(i, 'decide') : [policyLoaded]));
  }
  await store.appendAudit(all.slice(0, size));
  let previous = -1;
  for (const s of [...checkpoints].sort((a, b) => a - b)) {
    const cp = signCheckpoint({ origin: signer.name, size: s, root: await store.rootAt(s) }, signer);
    await store.addCheckpoint({ size: s, root: cp.root, note: cp.note, signedAt: now.toISOString() }, previous);
    previous = s;
  }
  await store.close();
  return path;
}

/** A copy of a log, changed behind the store's back (its append-only triggers dropped). */
function tampered(path: string, change: (db: InstanceType<typeof Database>) => void): string {
  const copy = join(dir, `copy-${n++}.db`);
  copyFileSync(path, copy);
  const db = new Database(copy);
  for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${t}"`);
  change(db);
  db.close();
  return copy;
}

const plan = (path: string) => planFromDatabase(path, { keys: [signer.verifier], witnessKeys: [], witnessDirs: [] });

/** The report without its timings, findings in a fixed order (ties between findings of one entry may come in another order). */
function essence(r: VerifyReport): unknown {
  const { seconds: _s, entriesPerSecond: _e, findings, first: _f, halves: _h, ...rest } = r;
  return { ...rest, findings: findings.map((f) => JSON.stringify(f)).sort() };
}

/**
 * One pass in order against the two halves split at each of `splits`: the same report
 * each time; the halves joined, unless `again` says what is checked again in one pass.
 */
async function sameEverySplit(path: string, splits: number[], o: { governance?: boolean; again?: Array<'integrity' | 'governance'> } = {}): Promise<VerifyReport> {
  const governance = o.governance ?? true;
  const one = await verifyAuditLog(plan(path), { threads: false, governance });
  expect(one.halves).toBeUndefined();
  for (const split of splits) {
    const two = await verifyAuditLog(plan(path), { threads: false, governance, split });
    expect(two.halves, `split at ${split}`).toEqual({ at: split, again: o.again ?? [] });
    expect(essence(two), `split at ${split}`).toEqual(essence(one));
    expect(two.first?.check, `split at ${split}`).toBe(one.first?.check);
  }
  return one;
}

function rewrite(db: InstanceType<typeof Database>, seq: number, edit: (text: string) => string, leaf: 'recomputed' | 'kept'): void {
  const bytes = Buffer.from(edit((db.prepare('SELECT bytes FROM audit_entries WHERE seq = ?').pluck().get(seq) as Buffer).toString('utf8')));
  db.prepare('UPDATE audit_entries SET bytes = ? WHERE seq = ?').run(bytes, seq);
  if (leaf === 'recomputed') db.prepare('UPDATE audit_entries SET leaf_hash = ? WHERE seq = ?').run(Buffer.from(leafHash(bytes)), seq);
}

let log53 = '';
let log64 = '';
const SPLITS_53 = [1, 2, 16, 26, 27, 32, 33, 48, 52];

beforeAll(async () => {
  log53 = await buildLog(53, [9, 26, 27, 40, 53]);
  log64 = await buildLog(64, [16, 32, 48, 64]);
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the split point', () => {
  it('near the middle, at a multiple of 4,096 on long logs; none below two entries', () => {
    expect(splitAt(0, 1_000_001)).toBe(499_712);
    expect(splitAt(0, 9000)).toBe(4096);
    expect(splitAt(0, 5)).toBe(2);
    expect(splitAt(0, 2)).toBe(1);
    expect(splitAt(0, 1)).toBeUndefined();
    expect(splitAt(0, 0)).toBeUndefined();
  });
});

describe('two halves report exactly what one pass reports', () => {
  it('untouched logs of every small size, split anywhere: verified, the same roots', async () => {
    for (const size of [2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 33]) {
      const path = await buildLog(size, [size, Math.ceil(size / 2)]);
      const splits = Array.from({ length: size - 1 }, (_, i) => i + 1);
      const r = await sameEverySplit(path, splits);
      expect(r.result, `size ${size}`).toBe('verified');
      const io = await sameEverySplit(path, splits, { governance: false });
      expect(io.result).toBe('verified');
    }
  }, 60_000);

  it('a log of one entry is checked in one pass (nothing to split), and asking to split it is refused', async () => {
    const path = await buildLog(1, [1]);
    expect((await verifyAuditLog(plan(path), { threads: false })).result).toBe('verified');
    await expect(verifyAuditLog(plan(path), { threads: false, split: 1 })).rejects.toThrow(/cannot split/);
  });

  it('53 and 64 entries with checkpoints in each half and at the split: verified, the same at every split', async () => {
    expect((await sameEverySplit(log53, SPLITS_53)).result).toBe('verified');
    expect((await sameEverySplit(log64, [1, 16, 31, 32, 33, 63])).result).toBe('verified');
  });

  it('an entry forged (its leaf hash recomputed) in the earlier half, the later half, or either side of the split: its tree block and the checkpoints after it named', async () => {
    for (const seq of [5, 25, 26, 27, 45]) {
      const path = tampered(log53, (db) => rewrite(db, seq, (t) => t.replace('"ts":"2030', '"ts":"2031'), 'recomputed'));
      const r = await sameEverySplit(path, SPLITS_53);
      expect(r.result).toBe('tampered');
      expect(r.findings.map((f) => f.check)).toContain('tree-node');
      expect(r.findings.find((f) => f.check === 'tree-node')!.range!.from).toBeLessThanOrEqual(seq);
    }
  });

  it('an entry changed with its stored leaf hash kept: named by its sequence number, wherever it is', async () => {
    for (const seq of [1, 26, 27, 52]) {
      const r = await sameEverySplit(tampered(log53, (db) => rewrite(db, seq, (t) => t.replace('"v":1}', '"v":1 }'), 'kept')), SPLITS_53);
      expect(r.first).toMatchObject({ check: 'leaf-hash', seq });
    }
  });

  it('a wrong sequence number written inside an entry: named, in each half and at the split', async () => {
    for (const seq of [3, 26, 27, 50]) {
      const path = tampered(log53, (db) => rewrite(db, seq, (t) => t.replace(`"seq":${seq},`, `"seq":${seq + 7},`), 'recomputed'));
      const r = await sameEverySplit(path, SPLITS_53);
      expect(r.findings).toContainEqual(expect.objectContaining({ check: 'sequence-number', seq }));
    }
  });

  it('a stored tree node replaced, in each half and across the split: its block named', async () => {
    // Level 4 nodes (16 entries) at 0, 16, 32; level 5 (32 entries) at 0, spanning the splits at 16..31.
    for (const [level, index] of [
      [4, 0],
      [4, 1],
      [4, 2],
      [5, 0],
    ] as const) {
      const path = tampered(log53, (db) => db.prepare('UPDATE audit_tree_nodes SET hash = ? WHERE id = ?').run(randomBytes(32), nodeId(level, index)));
      const r = await sameEverySplit(path, SPLITS_53);
      expect(r.findings).toContainEqual(expect.objectContaining({ check: 'tree-node', range: { from: index * 2 ** level, to: (index + 1) * 2 ** level - 1 } }));
    }
  });

  it('a stored node beyond the log (its entries deleted) and one removed: named, whatever the split', async () => {
    const cut = tampered(log64, (db) => db.prepare('DELETE FROM audit_entries WHERE seq >= 60').run());
    const r = await sameEverySplit(cut, [1, 16, 32, 33, 59]);
    expect(r.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['tree-node-beyond-log']));
    const lost = tampered(log64, (db) => db.prepare('DELETE FROM audit_tree_nodes WHERE id = ?').run(nodeId(5, 0)));
    expect((await sameEverySplit(lost, [1, 16, 32, 33, 63])).findings.map((f) => f.check)).toContain('tree-nodes-missing');
  });

  it('a checkpoint whose root is not the log\'s, signed with the real key, in each half and at the split: named', async () => {
    for (const size of [9, 26, 27, 40]) {
      const path = tampered(log53, (db) => {
        const cp = signCheckpoint({ origin: signer.name, size, root: randomBytes(32) }, signer);
        db.prepare('UPDATE audit_checkpoints SET root = ?, note = ? WHERE size = ?').run(Buffer.from(cp.root), cp.note, size);
      });
      const r = await sameEverySplit(path, SPLITS_53);
      expect(r.result).toBe('tampered');
      expect(r.findings).toContainEqual(expect.objectContaining({ checkpoint: size }));
    }
  });

  it('an entry deleted from the earlier half: every later position moves, checked again in one pass, the same findings', async () => {
    for (const seq of [4, 25]) {
      const r = await sameEverySplit(tampered(log53, (db) => db.prepare('DELETE FROM audit_entries WHERE seq = ?').run(seq)), [26, 27, 40], { again: ['integrity', 'governance'] });
      expect(r.findings).toContainEqual(expect.objectContaining({ check: 'missing-entries', seq }));
    }
  });

  it('two entries swapped across the split: named', async () => {
    const path = tampered(log53, (db) => {
      const get = db.prepare('SELECT bytes, leaf_hash FROM audit_entries WHERE seq = ?');
      const a = get.get(26) as { bytes: Buffer; leaf_hash: Buffer };
      const b = get.get(27) as { bytes: Buffer; leaf_hash: Buffer };
      const set = db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = ?');
      set.run(b.bytes, b.leaf_hash, 26);
      set.run(a.bytes, a.leaf_hash, 27);
    });
    const r = await sameEverySplit(path, SPLITS_53);
    expect(r.first).toMatchObject({ check: 'sequence-number', seq: 26 });
  });
});

describe('governance across the split', () => {
  /** A log: the policy, then `count` allowed and executed actions, with `edit` applied to the drafts first. */
  async function governed(edit: (drafts: AuditDraft[][]) => AuditDraft[]): Promise<string> {
    const actions = Array.from({ length: 8 }, (_, i) => actionDrafts(i));
    const drafts = [policyLoaded, ...edit(actions)];
    return buildLog(drafts.length, [drafts.length], drafts);
  }
  const everySplit = (path: string) => {
    const size = new Database(path, { readonly: true }).prepare('SELECT count(*) FROM audit_entries').pluck().get() as number;
    return Array.from({ length: size - 1 }, (_, i) => i + 1);
  };

  it('an execution without approval, an action run twice, an action run after it was denied, in each half and spanning the split: named as one pass names them', async () => {
    const path = await governed((a) => {
      // Action 1 runs twice (its start repeated at the end), action 6's start moved before its decision.
      const six = a[6]!;
      return [...a.flat().filter((d) => d !== six[2]), six[2]!, a[1]![2]!];
    });
    const r = await sameEverySplit(path, everySplit(path));
    expect(r.result).toBe('governance');
    expect(r.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['executed-twice']));
  });

  it('a decision naming a policy never loaded, or loaded only after it, wherever the split falls: named', async () => {
    const later: AuditDraft = { ...policyLoaded, data: { ...policyLoaded.data, version: `sha256:${'6'.repeat(64)}` } };
    const path = await governed((a) => {
      const odd = a[3]!.map((d) => (d.type === 'action.decided' ? { ...d, data: { ...d.data, policyVersion: `sha256:${'6'.repeat(64)}` } } : d));
      const never = a[5]!.map((d) => (d.type === 'action.decided' ? { ...d, data: { ...d.data, policyVersion: `sha256:${'7'.repeat(64)}` } } : d));
      return [...a[0]!, ...a[1]!, ...a[2]!, ...odd, later, ...a[4]!, ...never, ...a[6]!, ...a[7]!];
    });
    const r = await sameEverySplit(path, everySplit(path));
    expect(r.findings.filter((f) => f.check === 'unknown-policy-version').map((f) => f.found)).toEqual([`sha256:${'6'.repeat(64)}`, `sha256:${'7'.repeat(64)}`]);
  });

  it('a submission written twice, once in each half: named; checked again in one pass when the later half sees it begin anew', async () => {
    // Action 0 is entries 1 to 4, its submission repeated last. Split inside it, the later half sets its entries aside for the earlier one's state.
    const path = await governed((a) => [...a.flat(), a[0]![0]!]);
    await sameEverySplit(path, [2, 3, 4]);
    const r = await sameEverySplit(path, [5, 6, 20], { again: ['integrity', 'governance'] });
    expect(r.findings).toContainEqual(expect.objectContaining({ check: 'submitted-twice' }));
  });

  it('an entry that is not JSON in each half: named once, as tampering', async () => {
    for (const seq of [3, 20]) {
      const path = tampered(log53, (db) => rewrite(db, seq, (t) => t.slice(0, -1), 'recomputed'));
      const r = await sameEverySplit(path, SPLITS_53);
      expect(r.findings.filter((f) => f.check === 'malformed-entry')).toEqual([expect.objectContaining({ seq })]);
    }
  });

  it('when the halves cannot be joined, both checks run again on the same bytes: a writer changing the file meanwhile cannot hide a violation', async () => {
    // Action 0 executed twice (its execution.started again at entry 5); entry 5 hidden while the
    // halves read (so they cannot be joined), put back before the second pass reads.
    const path = await governed((a) => [...a[0]!, a[0]![2]!, ...a.slice(1).flat()]);
    expect((await verifyAuditLog(plan(path), { threads: false })).findings.map((f) => `${f.check}@${f.seq}`)).toEqual(['executed-twice@5']);
    const db = new Database(path);
    for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${t}"`);
    const row = db.prepare('SELECT * FROM audit_entries WHERE seq = 5').get() as Record<string, unknown>;
    db.prepare('DELETE FROM audit_entries WHERE seq = 5').run();
    let restored = false;
    const r = await verifyAuditLog(plan(path), {
      threads: false,
      split: 20,
      progress: (done) => {
        if (restored || done < 20) return;
        db.prepare('INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash) VALUES (@seq, @ts, @type, @action_id, @bytes, @leaf_hash)').run(row);
        restored = true;
      },
    });
    db.close();
    expect(restored).toBe(true);
    expect(r.halves).toEqual({ at: 20, again: ['integrity', 'governance'] });
    expect(r.exitCode).not.toBe(0);
    expect(r.findings.map((f) => `${f.check}@${f.seq}`)).toContain('executed-twice@5');
  });
});
