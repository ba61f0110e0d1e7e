import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteStore } from '../../src/adapters/store/sqlite/sqlite-store.js';
import { nodeId, STORED_FROM } from '../../src/adapters/store/sqlite/sqlite-tree.js';
import { encodeAuditEntry, leafHash } from '../../src/domain/audit-entry.js';
import { readCheckpoint, signCheckpoint } from '../../src/domain/checkpoint.js';
import { RightEdge } from '../../src/domain/merkle.js';
import { parseSignerKey, signerFromSeed } from '../../src/domain/signed-note.js';
import type { ServerProcess, Workspace } from './harness.js';
import { runCli, startServer, startTarget, until, workspace } from './harness.js';

// Section 7 of the audit-log issue: a real log written by a real gateway, then changed
// behind its back in a copy of its SQLite file, the way a rogue operator would. Every
// change is detected by `countersign audit verify`, with what and where; a governance
// violation written into an intact log is reported as such.

let target: Awaited<ReturnType<typeof startTarget>>;
let ws: Workspace;
let server: ServerProcess;
let vkey = '';
let dbPath = '';
let witnessDir = '';
let pendingId = '';
let size = 0;
const copies = mkdtempSync(join(tmpdir(), 'countersign-tamper-'));

type Db = InstanceType<typeof Database>;
interface Report {
  result: string;
  first?: { check: string; seq?: number; checkpoint?: number; message: string; expected?: string; found?: string };
  findings: Array<{ kind: string; check: string; seq?: number; checkpoint?: number }>;
  counts: Record<string, number>;
}

beforeAll(async () => {
  target = await startTarget();
  ws = workspace(target.url, { extraConfig: 'audit:\n  checkpoints: { maxDelay: 1s }\n  witnesses: [{ directory: ./witness }]\n' });
  server = await startServer(ws);
  const agent = server.client(ws.tokens.agent);
  // Three waves, a checkpoint after each: reads (executed), a reviewed release, denials, one left pending.
  for (let wave = 0; wave < 3; wave++) {
    for (let i = 0; i < 4; i++) await agent.wait((await agent.submit({ kind: 'http', target: 'github', input: { method: 'GET', path: `/repos/acme/r${wave}-${i}` } })).id, { timeoutSeconds: 10 });
    const rel = await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: `v${wave}` } } });
    await server.client(ws.tokens.alice).approve(rel.id, rel.fingerprint);
    await server.client(ws.tokens.bob).approve(rel.id, rel.fingerprint);
    await agent.wait(rel.id, { timeoutSeconds: 10 });
    await agent.submit({ kind: 'http', target: 'github', input: { method: 'DELETE', path: `/repos/acme/d${wave}` } });
    const n = (await server.client(ws.tokens.agent).get(rel.id)) as unknown as { auditSeqs: number[] };
    const last = n.auditSeqs[n.auditSeqs.length - 1]! + 3;
    await until(
      async () => {
        const d = new Database(join(ws.dir, 'countersign.db'), { readonly: true });
        try {
          return (d.prepare('SELECT MAX(size) AS s FROM audit_checkpoints').get() as { s: number | null }).s ?? 0;
        } finally {
          d.close();
        }
      },
      (s) => s >= last,
      15_000,
    );
  }
  pendingId = (await agent.submit({ kind: 'http', target: 'github', input: { method: 'POST', path: '/repos/acme/app/releases', body: { tag_name: 'vX' } } })).id;
  expect(await server.stop()).toBe(0);
  dbPath = join(ws.dir, 'countersign.db');
  witnessDir = join(ws.dir, 'witness');
  vkey = (await runCli(['audit', 'key', '--config', ws.configPath], ws.env)).stdout.trim();
  const d = new Database(dbPath, { readonly: true });
  size = (d.prepare('SELECT COUNT(*) AS n FROM audit_entries').get() as { n: number }).n;
  d.close();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  await target?.close();
  ws?.cleanup();
  rmSync(copies, { recursive: true, force: true });
});

let copyNo = 0;
function copyOfLog(): string {
  const dir = join(copies, String(++copyNo));
  rmSync(dir, { recursive: true, force: true });
  const path = join(dir, 'countersign.db');
  mkdirSync(dir, { recursive: true });
  for (const ext of ['', '-wal', '-shm']) if (existsSync(dbPath + ext)) copyFileSync(dbPath + ext, path + ext);
  return path;
}

/** Changes a copy of the log with raw SQL (dropping the append-only triggers, as an operator can), then verifies it. */
async function tamper(change: (db: Db, path: string) => void | Promise<void>, args: string[] = ['--witness', witnessDir]): Promise<{ code: number | null; report: Report }> {
  const path = copyOfLog();
  const db = new Database(path);
  for (const t of ['audit_entries_no_update', 'audit_entries_no_delete', 'audit_tree_nodes_no_update', 'audit_tree_nodes_no_delete', 'audit_checkpoints_no_update', 'audit_checkpoints_no_delete']) db.exec(`DROP TRIGGER IF EXISTS ${t}`);
  await change(db, path);
  if (db.open) db.close();
  const r = await runCli(['audit', 'verify', '--db', path, '--key', vkey, '--json', ...args]);
  return { code: r.code, report: JSON.parse(r.stdout) as Report };
}

const entry = (db: Db, seq: number) => db.prepare('SELECT bytes, leaf_hash FROM audit_entries WHERE seq = ?').get(seq) as { bytes: Buffer; leaf_hash: Buffer };
const checkpointSizes = (db: Db) => (db.prepare('SELECT size FROM audit_checkpoints ORDER BY size').all() as Array<{ size: number }>).map((r) => r.size);

/** Recomputes every stored tree node from the stored leaf hashes (what a careful forger does). */
function rebuildTree(db: Db): void {
  db.exec('DELETE FROM audit_tree_nodes');
  const insert = db.prepare('INSERT INTO audit_tree_nodes (id, hash) VALUES (?, ?)');
  const edge = new RightEdge();
  for (const r of db.prepare('SELECT leaf_hash FROM audit_entries ORDER BY seq').all() as Array<{ leaf_hash: Buffer }>) {
    edge.append(r.leaf_hash, (level, index, hash) => {
      if (level >= STORED_FROM) insert.run(nodeId(level, index), Buffer.from(hash, 'latin1'));
    });
  }
}

describe('tampering with the audit log is detected, and the report says what and where', () => {
  it('the untouched log verifies, with its witness copies, in one thread or two', async () => {
    for (const threads of ['--no-threads', '--threads']) {
      const { code, report } = await tamper(() => {}, ['--witness', witnessDir, threads]);
      expect(report.result).toBe('verified');
      expect(code).toBe(0);
    }
    expect(size).toBeGreaterThan(40);
  });

  it('one byte of one entry changed: that entry is named, its hashes shown (integrity checked in the worker thread)', async () => {
    const { code, report } = await tamper((db) => {
      const e = entry(db, 17);
      const bytes = Buffer.from(e.bytes);
      const at = bytes.indexOf('"ts":"') + 10; // a digit of the year
      bytes[at] = bytes[at]! ^ 1;
      db.prepare('UPDATE audit_entries SET bytes = ? WHERE seq = 17').run(bytes);
    }, ['--witness', witnessDir, '--threads']);
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'leaf-hash', seq: 17 });
    expect(report.first!.expected).not.toBe(report.first!.found);
  });

  it('one entry changed with its leaf hash recomputed: its block of the tree and the checkpoints after it say so', async () => {
    let seq = 0;
    const { code, report } = await tamper((db) => {
      seq = (db.prepare("SELECT seq FROM audit_entries WHERE type = 'action.decided' AND seq > 16 AND CAST(bytes AS TEXT) LIKE '%\"outcome\":\"allow\"%' ORDER BY seq LIMIT 1").get() as { seq: number }).seq;
      const before = entry(db, seq).bytes.toString('utf8');
      const bytes = Buffer.from(before.replace('"outcome":"allow"', '"outcome":"deny"'));
      expect(bytes.toString('utf8')).not.toBe(before);
      db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = ?').run(bytes, leafHash(bytes), seq);
    });
    expect(code).toBe(3);
    const block = seq - (seq % 16);
    expect(report.first).toMatchObject({ check: 'tree-node', range: { from: block, to: block + 15 } });
    expect(report.findings.some((f) => f.check === 'checkpoint-root' && f.checkpoint! > seq)).toBe(true);
  });

  it('an entry deleted: the gap is named', async () => {
    const { code, report } = await tamper((db) => void db.prepare('DELETE FROM audit_entries WHERE seq = 9').run());
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'missing-entries', seq: 9 });
  });

  it('two entries swapped: the first moved one is named', async () => {
    const { code, report } = await tamper((db) => {
      const a = entry(db, 5);
      const b = entry(db, 6);
      db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = 5').run(b.bytes, b.leaf_hash);
      db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = 6').run(a.bytes, a.leaf_hash);
    });
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'sequence-number', seq: 5, expected: '5', found: '6' });
  });

  it('a forged entry inserted (the later ones moved up to make room): named where the log stops matching', async () => {
    const { code, report } = await tamper((db) => {
      const rows = db.prepare('SELECT seq FROM audit_entries WHERE seq >= 12 ORDER BY seq DESC').all() as Array<{ seq: number }>;
      for (const r of rows) db.prepare('UPDATE audit_entries SET seq = seq + 1 WHERE seq = ?').run(r.seq);
      const forged = encodeAuditEntry(12, { type: 'policy.loaded', ts: new Date().toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: 'sha256:forged', file: 'x', trigger: 'startup', rules: 1, previous: null } });
      db.prepare('INSERT INTO audit_entries (seq, ts, type, action_id, bytes, leaf_hash) VALUES (?, ?, ?, NULL, ?, ?)').run(12, forged.ts, forged.type, forged.bytes, forged.leafHash);
    });
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'sequence-number', seq: 13, expected: '13', found: '12' });
    expect(report.findings.some((f) => f.check === 'checkpoint-root')).toBe(true);
  });

  it('the tail truncated: the checkpoints that covered it say which entries are gone', async () => {
    const { code, report } = await tamper((db) => void db.prepare('DELETE FROM audit_entries WHERE seq >= ?').run(size - 5));
    expect(code).toBe(3);
    expect(report.findings.some((f) => f.check === 'log-truncated' && f.checkpoint === size)).toBe(true);
  });

  it('the tail truncated and the checkpoints covering it removed: the witness copy says so', async () => {
    const { code, report } = await tamper((db) => {
      const cut = checkpointSizes(db).at(-2)!;
      db.prepare('DELETE FROM audit_entries WHERE seq >= ?').run(cut);
      db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(cut);
      db.prepare(`DELETE FROM audit_tree_nodes WHERE id >= ?`).run(0);
      rebuildTree(db);
    });
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'witness-ahead' });
  });

  it('a checkpoint replaced by an edited one: its signature fails', async () => {
    const { code, report } = await tamper((db) => {
      const s = checkpointSizes(db)[1]!;
      const note = (db.prepare('SELECT note FROM audit_checkpoints WHERE size = ?').get(s) as { note: string }).note;
      const lines = note.split('\n');
      lines[2] = randomBytes(32).toString('base64');
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(lines.join('\n'), s);
    });
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'checkpoint-signature' });
    expect(report.first!.message).toMatch(/does not verify/);
  });

  it('a checkpoint signed with a different key: not trusted, named', async () => {
    let s = 0;
    const { code, report } = await tamper((db) => {
      s = checkpointSizes(db).at(-1)!;
      const row = db.prepare('SELECT note FROM audit_checkpoints WHERE size = ?').get(s) as { note: string };
      const cp = readCheckpoint(row.note);
      const other = signerFromSeed(cp.origin, randomBytes(32));
      db.prepare('UPDATE audit_checkpoints SET note = ? WHERE size = ?').run(signCheckpoint(cp, other).note, s);
    });
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'checkpoint-signature', checkpoint: s });
    expect(report.first!.message).toMatch(/no trusted key signed/);
  });

  it('the whole log rewritten consistently and re-signed with the real key: only the witness copy catches it', async () => {
    const rewrite = (db: Db) => {
      const seq = (db.prepare("SELECT seq FROM audit_entries WHERE type = 'action.reviewed' ORDER BY seq LIMIT 1").get() as { seq: number }).seq;
      const bytes = Buffer.from(entry(db, seq).bytes.toString('utf8').replaceAll('alice@example.com', 'mallory@example.com'));
      db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = ?').run(bytes, leafHash(bytes), seq);
      rebuildTree(db);
      const signer = parseSignerKey(readFileSync(join(ws.dir, 'data', 'audit-signing.key'), 'utf8'));
      const edge = new RightEdge();
      const roots = new Map<number, Buffer>();
      const sizes = new Set(checkpointSizes(db));
      for (const r of db.prepare('SELECT leaf_hash FROM audit_entries ORDER BY seq').all() as Array<{ leaf_hash: Buffer }>) {
        edge.append(r.leaf_hash);
        if (sizes.has(edge.size)) roots.set(edge.size, edge.root());
      }
      db.exec('DELETE FROM audit_cosignatures');
      for (const [s, root] of roots) {
        const cp = signCheckpoint({ origin: signer.name, size: s, root }, signer);
        db.prepare('UPDATE audit_checkpoints SET note = ?, root = ? WHERE size = ?').run(cp.note, root, s);
      }
    };
    const without = await tamper(rewrite, []);
    expect(without.report.result).toBe('verified');
    expect(without.code).toBe(0);
    const withWitness = await tamper(rewrite);
    expect(withWitness.code).toBe(3);
    expect(withWitness.report.first).toMatchObject({ check: 'witness-mismatch' });
  });

  it('a governance violation written straight into the database (an execution with no approval) is reported as such (entries handed over from the worker)', async () => {
    const { code, report } = await tamper(async (db, path) => {
      db.close();
      const store = createSqliteStore({ path, writer: 'inline' });
      const a = (await store.getAction(pendingId))!;
      await store.appendAudit([{ type: 'execution.started', ts: new Date().toISOString(), actionId: pendingId, actor: { type: 'system', id: 'countersign' }, data: { fingerprint: a.fingerprint } }]);
      await store.close();
    }, ['--witness', witnessDir, '--threads']);
    expect(code).toBe(4);
    expect(report.result).toBe('governance');
    expect(report.first).toMatchObject({ check: 'execution-without-approval', seq: size });
    expect(report.counts.tampering).toBe(0);
  });
});
