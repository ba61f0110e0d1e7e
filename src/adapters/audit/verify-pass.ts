import { isAscii } from 'node:buffer';
import type { Finding } from '../../domain/audit-finding.js';
import type { ParsedEntry } from '../../domain/audit-governance.js';
import type { GovernanceChecker } from '../../domain/audit-governance.js';
import type { EntryChunk } from '../../domain/audit-integrity.js';
import { IntegrityChecker } from '../../domain/audit-integrity.js';
import { RightEdge } from '../../domain/merkle.js';
import type { SqliteDb } from '../store/sqlite/sqlite-db.js';
import { nodeId, STORED_FROM } from '../store/sqlite/sqlite-tree.js';

/** What the integrity pass reports (structured-cloneable: it may come from the worker). */
export interface IntegrityResult {
  size: number;
  roots: Array<[number, string]>;
  findings: Finding[];
  problems: number;
  nodesChecked: number;
}

export interface IntegrityOptions {
  start: number;
  /** Hashes of the tree's edge at `start` (base64), for a range that does not start at 0. */
  edge: string[];
  rootsAt: number[];
  /** Compare the stored tree nodes (a database). */
  checkNodes: boolean;
}

export function createIntegrity(o: IntegrityOptions): IntegrityChecker {
  const edge = new RightEdge(o.start, o.edge.map((h) => Buffer.from(h, 'base64')));
  return new IntegrityChecker({ start: o.start, edge, rootsAt: o.rootsAt, ...(o.checkNodes ? { keepNodesFrom: STORED_FROM } : {}) });
}

/**
 * The stored tree nodes against the ones recomputed from the entries: a node that
 * differs pins a changed entry down to its 16 (or more) entries even when its leaf
 * hash was rewritten too.
 */
export function checkStoredNodes(db: SqliteDb, c: IntegrityChecker): { findings: Finding[]; checked: number } {
  const findings: Finding[] = [];
  const rows = db.prepare('SELECT id, hash FROM audit_tree_nodes WHERE id >= ? ORDER BY id LIMIT 50000').raw();
  let checked = 0;
  let missing = 0;
  let next = 0;
  const seen = new Set<number>();
  const bad: Array<{ level: number; from: number; to: number; beyond: boolean }> = [];
  for (;;) {
    const batch = rows.all(next) as Array<[number, Buffer]>;
    if (batch.length === 0) break;
    for (const [id, hash] of batch) {
      seen.add(id);
      const mine = c.nodes.get(id);
      const { level, index } = positionOf(id);
      const from = index * 2 ** level;
      if (mine === undefined || hash.toString('latin1') !== mine) bad.push({ level, from, to: from + 2 ** level - 1, beyond: mine === undefined });
      checked++;
    }
    next = batch[batch.length - 1]![0] + 1;
  }
  // Name the smallest blocks only: a node is wrong whenever one of its children is.
  const smallest = bad.filter((x) => !bad.some((y) => y !== x && y.level < x.level && y.from >= x.from && y.to <= x.to));
  for (const x of smallest.sort((a, b) => a.from - b.from)) {
    findings.push(
      x.beyond
        ? { kind: 'tampering', check: 'tree-node-beyond-log', seq: x.from, range: { from: x.from, to: x.to }, message: `the stored tree covers entries ${x.from} to ${x.to}, which the log does not hold: entries were removed` }
        : { kind: 'tampering', check: 'tree-node', seq: x.from, range: { from: x.from, to: x.to }, message: `one of the entries ${x.from} to ${x.to} is not the one the stored tree was built from: it was changed after it was written` },
    );
  }
  for (const id of c.nodes.keys()) if (!seen.has(id) && positionOf(id).level >= STORED_FROM) missing++;
  if (missing) findings.push({ kind: 'warning', check: 'tree-nodes-missing', message: `${missing} tree nodes are not stored (the store rebuilds them when it next opens)` });
  return { findings, checked };
}

/** (level, index) of an in-order node position. */
function positionOf(id: number): { level: number; index: number } {
  let level = 0;
  while (Math.floor((id + 1) / 2 ** level) % 2 === 0) level++;
  const index = (id + 1 - 2 ** level) / 2 ** (level + 1);
  if (nodeId(level, index) !== id) throw new Error(`not a node position: ${id}`);
  return { level, index };
}

export function integrityResult(c: IntegrityChecker, extra: { findings: Finding[]; checked: number } = { findings: [], checked: 0 }): IntegrityResult {
  return {
    size: c.size,
    roots: [...c.roots].map(([size, root]) => [size, Buffer.from(root).toString('base64')]),
    findings: [...c.findings, ...extra.findings],
    problems: c.problems + extra.findings.filter((f) => f.kind === 'tampering').length,
    nodesChecked: extra.checked,
  };
}

const FINISHED_TAIL = ',"type":"execution.finished","v":1}';
const ACTION_PREFIX = '{"actionId":"';

// Entries the gateway writes in a fixed shape, matched whole (anchored, canonical JSON,
// no escapes in the captured values): what they say is exactly what JSON.parse would
// read, at a fraction of its cost. Anything else is parsed.
const ID = '"actionId":"([A-Za-z0-9_.:-]{1,200})"';
const SYSTEM = '"actor":\\{"id":"countersign","type":"system"\\}';
const FP = 'sha256:[0-9a-f]{64}';
const TAIL = (type: string) => `,"seq":[0-9]{1,16},"ts":"([0-9T:.Z+-]{1,40})","type":"${type.replace('.', '\\.')}","v":1\\}$`;
const STARTED = new RegExp(`^\\{${ID},${SYSTEM},"data":\\{"fingerprint":"(${FP})"\\}${TAIL('execution.started')}`);
const JSON_STRING = '"(?:[^"\\\\]|\\\\.)*"';
const DECIDED = new RegExp(
  `^\\{${ID},${SYSTEM},"data":\\{"fingerprint":"(${FP})","outcome":"(allow|deny)","policyVersion":"([^"\\\\]{1,200})","reason":${JSON_STRING},"rules":\\[(?:${JSON_STRING}(?:,${JSON_STRING})*)?\\]\\}${TAIL('action.decided')}`,
);
const SYSTEM_ACTOR = { type: 'system', id: 'countersign' } as const;

/** The few facts governance needs from a fixed-shape entry, or undefined to parse it. */
export function fastEntry(p: string, seq: number): ParsedEntry | undefined {
  if (p.endsWith('"type":"execution.started","v":1}')) {
    const m = STARTED.exec(p);
    return m ? { seq, ts: m[3]!, type: 'execution.started', actionId: m[1]!, actor: SYSTEM_ACTOR, data: { fingerprint: m[2]! } } : undefined;
  }
  if (p.endsWith('"type":"action.decided","v":1}') && !p.includes('"outcome":"review"')) {
    const m = DECIDED.exec(p);
    return m ? { seq, ts: m[5]!, type: 'action.decided', actionId: m[1]!, actor: SYSTEM_ACTOR, data: { fingerprint: m[2]!, outcome: m[3]!, policyVersion: m[4]! } } : undefined;
  }
  return undefined;
}

/**
 * Feeds a chunk to the governance checker. Entries are parsed from their canonical
 * JSON; an execution.finished entry is recognised from its first and last bytes (the
 * checker needs only its action), which spares parsing the largest entries.
 */
export function governChunk(g: GovernanceChecker, c: EntryChunk, bad: (f: Finding) => void): number {
  const text = c.blob.toString(isAscii(c.blob) ? 'latin1' : 'utf8');
  const parts = text.split('\0');
  for (let k = 1; k < parts.length; k++) {
    const p = parts[k]!;
    const seq = c.seqs ? c.seqs[k - 1]! : c.first + k - 1;
    if (p.endsWith(FINISHED_TAIL) && p.startsWith(ACTION_PREFIX)) {
      const end = p.indexOf('"', ACTION_PREFIX.length);
      g.finished(seq, p.slice(ACTION_PREFIX.length, end));
      continue;
    }
    const fast = fastEntry(p, seq);
    if (fast) {
      g.add(fast);
      continue;
    }
    let e: ParsedEntry;
    try {
      e = JSON.parse(p) as ParsedEntry;
    } catch {
      bad({ kind: 'tampering', check: 'malformed-entry', seq, message: `entry ${seq} is not JSON: it is not an entry as written` });
      continue;
    }
    if (!e || typeof e !== 'object' || typeof e.type !== 'string' || !e.data || typeof e.data !== 'object') {
      bad({ kind: 'tampering', check: 'malformed-entry', seq, message: `entry ${seq} is not shaped like an audit entry` });
      continue;
    }
    e.seq = seq;
    g.add(e);
  }
  return parts.length - 1;
}
