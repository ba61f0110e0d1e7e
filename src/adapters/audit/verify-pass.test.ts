import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../domain/audit-entry.js';
import { encodeAuditEntry } from '../../domain/audit-entry.js';
import type { ParsedEntry } from '../../domain/audit-governance.js';
import { GovernanceChecker } from '../../domain/audit-governance.js';
import { createAction, finishExecution, startExecution } from '../../domain/lifecycle.js';
import type { Decision } from '../../domain/policy-types.js';
import { checkStoredNodes, createIntegrity, fastEntry, governChunk } from './verify-pass.js';

const now = new Date('2030-01-01T00:00:00.000Z');
const decision = (outcome: 'allow' | 'deny', reason: string, rules: string[]): Decision => ({ outcome, rules, policyVersion: `sha256:${'c'.repeat(64)}`, reason, requirements: [] });
const text = (d: AuditDraft, seq = 3) => Buffer.from(encodeAuditEntry(seq, d).bytes).toString('utf8');

describe('fixed-shape entries read without parsing', () => {
  it('read exactly what JSON.parse reads, whatever the reason and rule texts hold', () => {
    const reasons = ['plain', 'quotes " and \\ backslash', 'line\nbreak \u2028 ✓ ünïcode', '"rules":["x"]}', ''];
    for (const [i, reason] of reasons.entries()) {
      for (const outcome of ['allow', 'deny'] as const) {
        const t = createAction({ id: `act_fast${i}${outcome}00000`, request: { kind: 'http', target: 't', input: { method: 'GET', path: '/' } }, requester: { id: 'bot', type: 'agent', owner: 'o@x' }, decision: decision(outcome, reason, ['a', 'b "c"', reason]), now });
        const drafts = outcome === 'allow' ? [t.audit[1]!, ...startExecution(t.next, now, { host: 'h', pid: 1, instance: 'i', leaseUntil: now.toISOString() }).audit] : [t.audit[1]!];
        for (const d of drafts) {
          const p = text(d);
          const parsed = JSON.parse(p) as ParsedEntry;
          const fast = fastEntry(p, 3);
          expect(fast, `${d.type} ${JSON.stringify(reason)}`).toBeDefined();
          expect(fast).toMatchObject({ seq: 3, ts: parsed.ts, type: parsed.type, actionId: parsed.actionId, actor: parsed.actor });
          for (const [k, v] of Object.entries(fast!.data)) expect(v).toEqual(parsed.data[k]);
        }
      }
    }
  });

  it('leaves anything else to JSON.parse: review decisions, extra keys, other actors, other spacing', () => {
    const t = createAction({ id: 'act_fastreview0000', request: { kind: 'http', target: 't', input: { method: 'GET', path: '/' } }, requester: { id: 'bot', type: 'agent', owner: 'o@x' }, decision: { ...decision('allow', 'r', ['a']), outcome: 'review', requirements: [{ ruleId: 'a', approvers: ['group:g'], quorum: 1, timeoutMs: 1000 }] }, now });
    expect(fastEntry(text(t.audit[1]!), 0)).toBeUndefined();
    const started = { type: 'execution.started' as const, ts: now.toISOString(), actionId: 'act_x', actor: { type: 'system' as const, id: 'countersign' }, data: { fingerprint: `sha256:${'d'.repeat(64)}` } };
    expect(fastEntry(text(started), 0)).toBeDefined();
    expect(fastEntry(text({ ...started, data: { ...started.data, extra: 1 } }), 0)).toBeUndefined();
    expect(fastEntry(text({ ...started, actor: { type: 'human', id: 'countersign' } }), 0)).toBeUndefined();
    expect(fastEntry(text(started).replace(',"data"', ', "data"'), 0)).toBeUndefined();
    expect(fastEntry(text({ ...started, data: { fingerprint: 'sha256:short' } }), 0)).toBeUndefined();
  });

  it('a chunk is governed as its parsed entries would be', () => {
    const t = createAction({ id: 'act_chunk000000000', request: { kind: 'http', target: 't', input: { method: 'GET', path: '/' } }, requester: { id: 'bot', type: 'agent', owner: 'o@x' }, decision: decision('allow', 'r', ['a']), now });
    const s = startExecution(t.next, now, { host: 'h', pid: 1, instance: 'i', leaseUntil: now.toISOString() });
    const drafts: AuditDraft[] = [...t.audit, ...s.audit, ...s.audit];
    const blob = Buffer.concat(drafts.flatMap((d, i) => [Buffer.from([0]), Buffer.from(encodeAuditEntry(i, d).bytes)]));
    const g = new GovernanceChecker();
    const bad: unknown[] = [];
    expect(governChunk(g, { first: 0, blob }, (f) => bad.push(f))).toBe(4);
    expect(g.findings.map((f) => f.check)).toEqual(['unknown-policy-version', 'executed-twice']);
    expect(governChunk(g, { first: 4, blob: Buffer.from('\u0000{not json') }, (f) => bad.push(f))).toBe(1);
    expect(bad).toEqual([expect.objectContaining({ kind: 'tampering', check: 'malformed-entry', seq: 4 })]);
  });
});

describe('the fast readers are picked by the end of an entry', () => {
  /** An allowed action's four entries (submitted, decided, started, finished), as written, with the policy loaded first. */
  function flow() {
    const t = createAction({ id: 'act_pick000000000', request: { kind: 'http', target: 't', input: { method: 'GET', path: '/' } }, requester: { id: 'bot', type: 'agent', owner: 'o@x' }, decision: decision('allow', 'r', ['a']), now });
    const s = startExecution(t.next, now, { host: 'h', pid: 1, instance: 'i', leaseUntil: now.toISOString() });
    const f = finishExecution({ ...s.next, auditSeqs: [] }, { ok: true, status: 200, headers: {}, body: { id: 1 } }, now);
    const loaded: AuditDraft = { type: 'policy.loaded', ts: now.toISOString(), actor: { type: 'system', id: 'countersign' }, data: { version: `sha256:${'c'.repeat(64)}` } };
    return [loaded, ...t.audit, ...s.audit, ...f.audit].map((d, i) => text(d, i));
  }
  const chunkOf = (texts: string[]) => ({ first: 0, blob: Buffer.concat(texts.flatMap((t) => [Buffer.from([0]), Buffer.from(t)])) });
  const govern = (texts: string[]) => {
    const g = new GovernanceChecker();
    const bad: Array<{ check: string; seq?: number }> = [];
    governChunk(g, chunkOf(texts), (f) => bad.push(f));
    return { g, bad };
  };

  it('an intact action of each common type is governed with nothing found', () => {
    const texts = flow();
    expect(texts.slice(1).map((t) => (JSON.parse(t) as { type: string }).type)).toEqual(['action.submitted', 'action.decided', 'execution.started', 'execution.finished']);
    const { g, bad } = govern(texts);
    expect(bad).toEqual([]);
    expect(g.findings).toEqual([]);
    expect(g.stats).toMatchObject({ actions: 1, executions: 1 });
  });

  it('a garbled entry of each common type is still reported as not JSON, by its sequence number', () => {
    const texts = flow();
    for (let seq = 1; seq < texts.length; seq++) {
      // One quote taken out in the middle: the tail the reader is picked by is intact.
      const t = texts[seq]!;
      const at = t.indexOf('"', t.length / 2);
      const garbled = texts.map((x, i) => (i === seq ? t.slice(0, at) + t.slice(at + 1) : x));
      expect(govern(garbled).bad, `entry ${seq}`).toEqual([expect.objectContaining({ kind: 'tampering', check: 'malformed-entry', seq })]);
    }
  });

  it('an entry whose tail points at the wrong reader is parsed and governed as JSON.parse reads it', () => {
    const texts = flow();
    // A started entry with a key that no fast reader accepts, and a decision whose type
    // was rewritten: both end like another type's entries, both are parsed.
    const started = texts[3]!.replace('"data":{', '"data":{"extra":1,');
    const decidedAsStarted = texts[2]!.replace('"type":"action.decided"', '"type":"action.started"');
    expect(govern([texts[0]!, texts[1]!, texts[2]!, started, texts[4]!]).g.findings).toEqual([]);
    const { g } = govern([texts[0]!, texts[1]!, decidedAsStarted, texts[3]!, texts[4]!]);
    expect(g.findings.map((f) => f.check)).toEqual(['unknown-entry-type', 'execution-without-decision', 'finished-without-start']);
  });
});

describe('stored tree nodes against the recomputed ones', () => {
  /** 64 entries' tree, its nodes of 16 entries and more stored as the store keeps them. */
  function stored() {
    const c = createIntegrity({ start: 0, edge: [], rootsAt: [], checkNodes: true });
    for (let s = 0; s < 64; s++) c.add(s, Buffer.from(`{"n":1,"seq":${s}}`));
    const db = new Database(':memory:');
    db.exec('CREATE TABLE audit_tree_nodes (id INTEGER PRIMARY KEY NOT NULL, hash BLOB NOT NULL)');
    const insert = db.prepare('INSERT INTO audit_tree_nodes (id, hash) VALUES (?, ?)');
    for (const [id, h] of c.nodes) insert.run(id, Buffer.from(h, 'latin1'));
    return { c, db };
  }

  it('an intact tree: every node checked, nothing found', () => {
    const { c, db } = stored();
    expect([...c.nodes.keys()].sort((a, b) => a - b)).toEqual([15, 31, 47, 63, 79, 95, 111]);
    expect(checkStoredNodes(db, c)).toEqual({ findings: [], checked: 7 });
  });

  it('a changed node names its 16 entries; a missing one warns; one beyond the log says entries were removed', () => {
    const { c, db } = stored();
    db.prepare('UPDATE audit_tree_nodes SET hash = ? WHERE id = 47').run(Buffer.alloc(32, 7));
    db.prepare('DELETE FROM audit_tree_nodes WHERE id = 111').run();
    db.prepare('INSERT INTO audit_tree_nodes (id, hash) VALUES (143, ?)').run(Buffer.alloc(32, 1));
    const r = checkStoredNodes(db, c);
    expect(r.checked).toBe(7);
    expect(r.findings).toEqual([
      expect.objectContaining({ kind: 'tampering', check: 'tree-node', seq: 16, range: { from: 16, to: 31 } }),
      expect.objectContaining({ kind: 'tampering', check: 'tree-node-beyond-log', seq: 64, range: { from: 64, to: 79 } }),
      expect.objectContaining({ kind: 'warning', check: 'tree-nodes-missing', message: expect.stringContaining('1 tree nodes') as unknown }),
    ]);
  });

  it('a changed block and its wrong ancestors are named once, by the smallest block; so is a log cut short by many blocks', () => {
    const { c, db } = stored();
    // Node 31 covers entries 0-31 (level 5), its child 15 covers 0-15: both wrong, only 0-15 named.
    db.prepare('UPDATE audit_tree_nodes SET hash = ? WHERE id IN (15, 31)').run(Buffer.alloc(32, 9));
    // 3,000 blocks of 16 beyond the log, and their ancestors up to level 9: only the blocks of 16 are named.
    const insert = db.prepare('INSERT INTO audit_tree_nodes (id, hash) VALUES (?, ?)');
    const beyond = new Set<number>();
    for (let i = 4; i < 3004; i++) for (let l = 4; l <= 9; l++) if (i % 2 ** (l - 4) === 0) beyond.add(2 ** l * (2 * Math.floor(i / 2 ** (l - 4)) + 1) - 1);
    for (const id of beyond) if (!c.nodes.has(id)) insert.run(id, Buffer.alloc(32, 3));
    const f = checkStoredNodes(db, c).findings;
    expect(f.filter((x) => x.check === 'tree-node')).toEqual([expect.objectContaining({ range: { from: 0, to: 15 } })]);
    const cut = f.filter((x) => x.check === 'tree-node-beyond-log');
    expect(cut).toHaveLength(3000);
    expect(cut.every((x) => x.range!.to - x.range!.from === 15)).toBe(true);
    expect(cut[0]!.range).toEqual({ from: 64, to: 79 });
  });

  it('a hash of another length is that node wrong, not the ones stored after it', () => {
    const { c, db } = stored();
    db.prepare('UPDATE audit_tree_nodes SET hash = substr(hash, 1, 31) WHERE id = 15').run();
    expect(checkStoredNodes(db, c).findings).toEqual([expect.objectContaining({ check: 'tree-node', range: { from: 0, to: 15 } })]);
  });
});
