import { randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { bundleSizes, checkpointFile, entryLines, readManifest, removeCheckpoints, renameReviewer, rewriteSummaries, writeEntryLines, writeManifest } from './audit-bundle-edit.js';
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
  halves?: { at: number; again: string[] };
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
      // With governance, integrity in the worker and governance here: no halves.
      expect(report.halves).toBeUndefined();
    }
    // Integrity alone, two threads: each checks half of the log, joined without a second pass.
    const io = await tamper(() => {}, ['--witness', witnessDir, '--threads', '--integrity-only']);
    expect(io.report.result).toBe('verified');
    expect(io.report.halves).toEqual({ at: Math.floor(size / 2), again: [] });
    expect(size).toBeGreaterThan(40);
  });

  it('one byte of one entry changed: that entry is named, its hashes shown (integrity in the worker; integrity alone, in either half)', async () => {
    for (const seq of [17, size - 3]) {
      for (const more of [[], ['--integrity-only']]) {
        const { code, report } = await tamper((db) => {
          const e = entry(db, seq);
          const bytes = Buffer.from(e.bytes);
          const at = bytes.indexOf('"ts":"') + 10; // a digit of the year
          bytes[at] = bytes[at]! ^ 1;
          db.prepare('UPDATE audit_entries SET bytes = ? WHERE seq = ?').run(bytes, seq);
        }, ['--witness', witnessDir, '--threads', ...more]);
        expect(code).toBe(3);
        if (more.length) expect(report.halves?.at).toBeGreaterThan(17);
        expect(report.first).toMatchObject({ check: 'leaf-hash', seq });
        expect(report.first!.expected).not.toBe(report.first!.found);
      }
    }
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

  it('a submission garbled with its hashes and tree rebuilt: named as not JSON, in one thread or two', async () => {
    for (const threads of ['--no-threads', '--threads']) {
      let seq = 0;
      const { code, report } = await tamper((db) => {
        seq = (db.prepare("SELECT seq FROM audit_entries WHERE type = 'action.submitted' AND seq > 16 ORDER BY seq LIMIT 1").get() as { seq: number }).seq;
        const before = entry(db, seq).bytes.toString('utf8');
        // Still shaped like a submission at both ends, so only a reader that checks every byte catches it.
        const bytes = Buffer.from(before.replace('"input":{', '"input":{,'));
        expect(bytes.toString('utf8')).not.toBe(before);
        db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = ?').run(bytes, leafHash(bytes), seq);
        rebuildTree(db);
      }, ['--witness', witnessDir, threads]);
      expect(code).toBe(3);
      expect(report.first).toMatchObject({ check: 'malformed-entry', seq });
    }
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
      const signer = parseSignerKey(readFileSync(join(ws.dir, 'keys', 'audit-signing.key'), 'utf8'));
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

// Issue 12, section 2: a bundle proves only what a signed checkpoint covers. Export
// writes only signed entries, so any entry no checkpoint proves means the bundle was
// edited; and a checkpoint the auditor kept catches a log or bundle cut short.
describe('an evidence bundle verifies only what its signed checkpoints prove', () => {
  let bundle = '';
  let sizes: number[] = [];
  let latestNote = '';

  beforeAll(async () => {
    bundle = join(copies, 'bundle');
    const e = await runCli(['audit', 'export', '--config', ws.configPath, '--out', bundle], ws.env);
    expect(e.code, e.stderr).toBe(0);
    sizes = bundleSizes(bundle);
    latestNote = readFileSync(join(bundle, checkpointFile(sizes.at(-1)!)), 'utf8');
  }, 60_000);

  let bundleNo = 0;
  type BundleReport = Report & { coverage: { proven: unknown; unproven: unknown }; known: unknown[] };
  async function tamperBundle(change: (dir: string) => void, args: string[] = []): Promise<{ code: number | null; report: BundleReport; stdout: string; stderr: string }> {
    const dir = join(copies, `bundle-${++bundleNo}`);
    cpSync(bundle, dir, { recursive: true });
    change(dir);
    const r = await runCli(['audit', 'verify', '--bundle', dir, '--key', vkey, ...args]);
    return { code: r.code, report: (args.includes('--json') ? JSON.parse(r.stdout) : undefined) as BundleReport, stdout: r.stdout, stderr: r.stderr };
  }
  const kept = (note: string, name: string) => {
    const file = join(copies, name);
    writeFileSync(file, note);
    return file;
  };

  it('the untouched bundle verifies, and says which signed checkpoint proves which entries', async () => {
    expect(sizes.length).toBeGreaterThanOrEqual(3);
    const text = await tamperBundle(() => {});
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`VERIFIED: entries 0 to ${size - 1}, proven by the signed checkpoint of ${size} entries`);
    const json = await tamperBundle(() => {}, ['--json']);
    expect(json.report.coverage).toEqual({ proven: { from: 0, to: size - 1, checkpoint: size }, unproven: null });
  });

  // Auditors are told to start with summary.md: verify rebuilds both summaries from the
  // verified entries and compares bytes.
  it('summary.md with one number changed: fails with exit 3, naming summary.md and the line', async () => {
    let line = '';
    const text = await tamperBundle((dir) => {
      const file = join(dir, 'summary.md');
      const md = readFileSync(file, 'utf8');
      line = md.split('\n').find((l) => /^\| deny \| [1-9]/.test(l))!;
      expect(line).toBeDefined();
      writeFileSync(file, md.replace(line, line.replace(/[0-9]+ \|$/, '0 |')));
    });
    expect(text.code).toBe(3);
    expect(text.stdout).not.toMatch(/^VERIFIED/m);
    expect(text.stdout).toContain('summary.md does not match the entries');
    const json = await tamperBundle((dir) => {
      const file = join(dir, 'summary.md');
      writeFileSync(file, readFileSync(file, 'utf8').replace(line, line.replace(/[0-9]+ \|$/, '0 |')));
    }, ['--json']);
    expect(json.code).toBe(3);
    expect(json.report.findings).toEqual([expect.objectContaining({ check: 'bundle-summary', found: line.replace(/[0-9]+ \|$/, '0 |'), expected: line })]);
    expect(json.report.first?.message).toMatch(/^summary\.md does not match the entries: line [0-9]+/);
  });

  it('summary.json with one count changed: fails with exit 3, naming summary.json', async () => {
    const r = await tamperBundle((dir) => {
      const file = join(dir, 'summary.json');
      const s = JSON.parse(readFileSync(file, 'utf8')) as { reviews: { denied: number; approvers: Array<{ denials: number }> }; decisions: { byOutcome: Record<string, number> } };
      expect(s.decisions.byOutcome.deny).toBeGreaterThan(0);
      s.decisions.byOutcome.deny = 0;
      writeFileSync(file, `${JSON.stringify(s, null, 2)}\n`);
    }, ['--json']);
    expect(r.code).toBe(3);
    expect(r.report.findings).toEqual([expect.objectContaining({ check: 'bundle-summary', found: '      "deny": 0' })]);
    expect(r.report.first?.message).toMatch(/^summary\.json does not match the entries/);
  });

  it('a summary file removed: fails with exit 3, naming it', async () => {
    for (const name of ['summary.md', 'summary.json']) {
      const r = await tamperBundle((dir) => rmSync(join(dir, name)), ['--json']);
      expect(r.code).toBe(3);
      expect(r.report.findings).toEqual([expect.objectContaining({ check: 'bundle-summary-missing' })]);
      expect(r.report.first?.message).toContain(`${name} is not in the bundle`);
    }
  });

  it('an entry edited and the summaries rebuilt to match it: the summaries pass, the edit is still caught by the signed root', async () => {
    let edited = 0;
    const r = await tamperBundle((dir) => {
      edited = renameReviewer(dir, 0);
      rewriteSummaries(dir);
    }, ['--json']);
    expect(edited).toBeGreaterThan(0);
    expect(r.code).toBe(3);
    expect(r.report.first).toMatchObject({ check: 'checkpoint-root' });
    expect(r.report.findings.map((f) => f.check)).not.toContain('bundle-summary');
  });

  it("every checkpoint removed (files and manifest lines) and a reviewer's name changed: fails, naming the first unproven entry", async () => {
    let edited = 0;
    const r = await tamperBundle((dir) => {
      removeCheckpoints(dir, () => true);
      edited = renameReviewer(dir, 0);
    }, ['--json']);
    expect(edited).toBeGreaterThan(0);
    expect(r.code).toBe(3);
    expect(r.report.first).toMatchObject({ check: 'uncovered-entries', seq: 0 });
    const text = await tamperBundle((dir) => removeCheckpoints(dir, () => true));
    expect(text.code).toBe(3);
    expect(text.stdout).not.toMatch(/^VERIFIED/m);
    expect(text.stdout).toMatch(/entries 0 to [0-9,]+ \[uncovered-entries\]/);
  });

  it('the checkpoints after some size removed and an entry after it edited: fails at that size', async () => {
    const keep = sizes[0]!;
    let edited = 0;
    const r = await tamperBundle((dir) => {
      removeCheckpoints(dir, (s) => s > keep);
      edited = renameReviewer(dir, keep);
    }, ['--json']);
    expect(edited).toBeGreaterThanOrEqual(keep);
    expect(r.code).toBe(3);
    expect(r.report.first).toMatchObject({ check: 'uncovered-entries', seq: keep });
  });

  it('only the newest checkpoint removed: the entries after the one before are unproven, named', async () => {
    const r = await tamperBundle((dir) => void removeCheckpoints(dir, (s) => s === sizes.at(-1)), ['--json']);
    expect(r.code).toBe(3);
    expect(r.report.first).toMatchObject({ check: 'uncovered-entries', seq: sizes.at(-2) });
  });

  it('manifest lines removed but the files kept, and files removed but the lines kept: each named', async () => {
    const lines = await tamperBundle((dir) => void removeCheckpoints(dir, (s) => s === sizes.at(-1), { lines: true }), ['--json']);
    expect(lines.code).toBe(3);
    expect(lines.report.findings.map((f) => f.check)).toEqual(expect.arrayContaining(['bundle-checkpoint-unlisted', 'uncovered-entries']));
    const files = await tamperBundle((dir) => void removeCheckpoints(dir, (s) => s === sizes.at(-1), { files: true }), ['--json']);
    expect(files.code).toBe(3);
    expect(files.report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'bundle-checkpoint-missing', checkpoint: sizes.at(-1) })]));
  });

  it('checkpoints reordered (files swapped, manifest reordered) and a manifest pointing outside the bundle: each named', async () => {
    const [a, b] = [sizes.at(-1)!, sizes.at(-2)!];
    const swapped = await tamperBundle((dir) => {
      const [fa, fb] = [join(dir, checkpointFile(a)), join(dir, checkpointFile(b))];
      const [na, nb] = [readFileSync(fa, 'utf8'), readFileSync(fb, 'utf8')];
      writeFileSync(fa, nb);
      writeFileSync(fb, na);
    }, ['--json']);
    expect(swapped.code).toBe(3);
    expect(swapped.report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'bundle-checkpoint-name', checkpoint: a })]));
    const reordered = await tamperBundle((dir) => {
      const m = readManifest(dir);
      m.checkpoints.reverse();
      writeManifest(dir, m);
    }, ['--json']);
    expect(reordered.code).toBe(3);
    expect(reordered.report.findings.map((f) => f.check)).toContain('bundle-checkpoint-order');
    const outside = await tamperBundle((dir) => {
      const m = readManifest(dir);
      m.checkpoints.push('../../../etc/passwd');
      writeManifest(dir, m);
    }, ['--json']);
    expect(outside.code).toBe(3);
    expect(outside.report.findings.map((f) => f.check)).toContain('bundle-checkpoint-name');
  });

  it('entries beyond the newest checkpoint: appended with the range widened, or appended alone, each named', async () => {
    const forged = (seq: number) => Buffer.from(encodeAuditEntry(seq, { type: 'policy.loaded', ts: new Date().toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: 'sha256:forged', file: 'x', trigger: 'startup', rules: 1, previous: null } }).bytes).toString('utf8');
    const widened = await tamperBundle((dir) => {
      writeEntryLines(dir, [...entryLines(dir), forged(size)]);
      const m = readManifest(dir);
      m.range.end = size + 1;
      m.proofs = [];
      writeManifest(dir, m);
    }, ['--json']);
    expect(widened.code).toBe(3);
    expect(widened.report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'uncovered-entries', seq: size })]));
    const appended = await tamperBundle((dir) => writeEntryLines(dir, [...entryLines(dir), forged(size)]), ['--json']);
    expect(appended.code).toBe(3);
    expect(appended.report.first).toMatchObject({ check: 'extra-entries', seq: size });
  });

  it("a range bundle's consistency proofs removed: named, and the entries only they proved are unproven", async () => {
    const lines = entryLines(bundle);
    const until = (JSON.parse(lines[sizes[1]! + 2]!) as { ts: string }).ts;
    const early = join(copies, 'bundle-early');
    expect((await runCli(['audit', 'export', '--config', ws.configPath, '--out', early, '--until', until], ws.env)).code).toBe(0);
    const m = readManifest(early);
    expect(m.proofs.some((p) => p.from === m.range.end)).toBe(true);
    m.proofs = [];
    writeManifest(early, m);
    const r = await runCli(['audit', 'verify', '--bundle', early, '--key', vkey, '--json']);
    expect(r.code).toBe(3);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.first).toMatchObject({ check: 'proof-missing' });
    if (!sizes.includes(m.range.end)) expect(report.findings.map((f) => f.check)).toContain('uncovered-entries');
  });

  it('two checkpoints of one size with different roots, both signed with the real key: a fork, named', async () => {
    const s = sizes[1]!;
    const r = await tamperBundle((dir) => {
      const signer = parseSignerKey(readFileSync(join(ws.dir, 'keys', 'audit-signing.key'), 'utf8'));
      const other = signCheckpoint({ origin: signer.name, size: s, root: randomBytes(32) }, signer);
      const spare = sizes[0]!;
      writeFileSync(join(dir, checkpointFile(spare)), other.note);
    }, ['--json']);
    expect(r.code).toBe(3);
    expect(r.report.findings).toEqual(expect.arrayContaining([expect.objectContaining({ check: 'checkpoint-fork', checkpoint: s })]));
  });

  it('the tail cut with its checkpoints: passes alone, and a checkpoint kept from before says it was truncated', async () => {
    const cut = sizes.at(-2)!;
    const truncate = (dir: string) => {
      writeEntryLines(dir, entryLines(dir).slice(0, cut));
      removeCheckpoints(dir, (s) => s > cut);
      const m = readManifest(dir);
      m.range.end = cut;
      writeManifest(dir, m);
      rewriteSummaries(dir);
    };
    const alone = await tamperBundle(truncate, ['--json']);
    expect(alone.code).toBe(0);
    const file = kept(latestNote, 'latest.checkpoint');
    const r = await tamperBundle(truncate, ['--json', '--known-checkpoint', file]);
    expect(r.code).toBe(3);
    expect(r.report.first).toMatchObject({ check: 'known-checkpoint-truncated', checkpoint: size });
    const text = await tamperBundle(truncate, ['--known-checkpoint', file]);
    expect(text.stdout).toContain(`entries ${cut} to ${size - 1}`);
  });

  it('a checkpoint kept from before, as served or inside a receipt, agrees with the untouched bundle', async () => {
    const note = readFileSync(join(bundle, checkpointFile(sizes[1]!)), 'utf8');
    for (const file of [kept(note, 'middle.checkpoint'), kept(JSON.stringify({ format: 'countersign-receipt/v1', checkpoint: note }), 'receipt.json')]) {
      const r = await tamperBundle(() => {}, ['--json', '--known-checkpoint', file]);
      expect(r.code).toBe(0);
      expect(r.report.known).toEqual([expect.objectContaining({ size: sizes[1], consistent: true })]);
    }
  });

  it('a kept checkpoint with a wrong signature, or not a checkpoint at all: a clear error, not a verdict', async () => {
    const lines = latestNote.split('\n');
    lines[1] = String(Number(lines[1]) + 1);
    const r = await tamperBundle(() => {}, ['--known-checkpoint', kept(lines.join('\n'), 'edited.checkpoint')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KNOWN_CHECKPOINT_SIGNATURE/);
    expect(r.stdout).toBe('');
    const junk = await tamperBundle(() => {}, ['--known-checkpoint', kept('hello\n', 'junk.checkpoint')]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/KNOWN_CHECKPOINT_UNREADABLE/);
  });
});

describe('a live log says which entries are signed, and a kept checkpoint catches what its database alone cannot', () => {
  const latest = () => {
    const d = new Database(dbPath, { readonly: true });
    try {
      return (d.prepare('SELECT note FROM audit_checkpoints ORDER BY size DESC LIMIT 1').get() as { note: string }).note;
    } finally {
      d.close();
    }
  };
  const keptLatest = () => {
    const file = join(copies, 'db-latest.checkpoint');
    writeFileSync(file, latest());
    return file;
  };

  it('entries after the newest checkpoint are reported as not verified, the rest as verified', async () => {
    const append = async (_db: Db, path: string) => {
      _db.close();
      const store = createSqliteStore({ path, writer: 'inline' });
      await store.appendAudit([{ type: 'policy.loaded', ts: new Date().toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: 'sha256:later', file: 'x', trigger: 'startup', rules: 1, previous: null } }]);
      await store.close();
    };
    const { code, report } = await tamper(append, []);
    expect(code).toBe(0);
    expect((report as unknown as { coverage: unknown }).coverage).toEqual({ proven: { from: 0, to: size - 1, checkpoint: size }, unproven: { from: size, to: size } });
    const path = copyOfLog();
    await append(new Database(path), path);
    const text = await runCli(['audit', 'verify', '--db', path, '--key', vkey]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`VERIFIED: entries 0 to ${size - 1}, proven by the signed checkpoint of ${size} entries`);
    expect(text.stdout).toContain(`NOT VERIFIED: entries ${size} to ${size}`);
  });

  it('every checkpoint deleted: nothing is said to be verified', async () => {
    const path = copyOfLog();
    const db = new Database(path);
    db.exec('DROP TRIGGER IF EXISTS audit_checkpoints_no_delete');
    db.exec('DELETE FROM audit_checkpoints');
    db.close();
    const text = await runCli(['audit', 'verify', '--db', path, '--key', vkey]);
    expect(text.stdout).not.toMatch(/^VERIFIED/m);
    expect(text.stdout).toContain(`NOT VERIFIED: entries 0 to ${size - 1}`);
  });

  it('the tail truncated and its checkpoints removed, no witness: a checkpoint kept from before names the truncation', async () => {
    const file = keptLatest();
    const cutTail = (db: Db) => {
      const cut = checkpointSizes(db).at(-2)!;
      db.prepare('DELETE FROM audit_entries WHERE seq >= ?').run(cut);
      db.prepare('DELETE FROM audit_checkpoints WHERE size > ?').run(cut);
      rebuildTree(db);
    };
    expect((await tamper(cutTail, [])).code).toBe(0);
    const { code, report } = await tamper(cutTail, ['--known-checkpoint', file]);
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'known-checkpoint-truncated', checkpoint: size });
  });

  it('the whole log rewritten and re-signed with the real key, no witness: a checkpoint kept from before disagrees', async () => {
    const file = keptLatest();
    const { code, report } = await tamper((db) => {
      const seq = (db.prepare("SELECT seq FROM audit_entries WHERE type = 'action.reviewed' ORDER BY seq LIMIT 1").get() as { seq: number }).seq;
      const bytes = Buffer.from(entry(db, seq).bytes.toString('utf8').replaceAll('alice@example.com', 'mallory@example.com'));
      db.prepare('UPDATE audit_entries SET bytes = ?, leaf_hash = ? WHERE seq = ?').run(bytes, leafHash(bytes), seq);
      rebuildTree(db);
      db.exec('DELETE FROM audit_checkpoints');
    }, ['--known-checkpoint', file]);
    expect(code).toBe(3);
    expect(report.first).toMatchObject({ check: 'known-checkpoint-root', checkpoint: size });
  });
});
