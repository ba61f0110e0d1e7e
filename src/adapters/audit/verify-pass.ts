import { isAscii } from 'node:buffer';
import type { Finding } from '../../domain/audit-finding.js';
import type { ParsedEntry } from '../../domain/audit-governance.js';
import type { GovernanceChecker } from '../../domain/audit-governance.js';
import type { EntryChunk } from '../../domain/audit-integrity.js';
import { IntegrityChecker } from '../../domain/audit-integrity.js';
import { RightEdge } from '../../domain/merkle.js';
import type { SqliteDb } from '../store/sqlite/sqlite-db.js';
import { nodeId, STORED_FROM } from '../store/sqlite/sqlite-tree.js';
import { finishedAction, reviewedEntry, submittedEntry } from './entry-shapes.js';

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

/** A stored tree node that differs from the recomputed one (or that the log does not hold: `beyond`). */
export interface BadNode {
  level: number;
  from: number;
  to: number;
  beyond: boolean;
}

/** What comparing the stored tree nodes of a range of positions found (structured-cloneable). */
export interface NodeScan {
  bad: BadNode[];
  /** Recomputed nodes found stored. */
  present: number;
  checked: number;
  /** Stored nodes left to whoever knows the subtrees that span the ranges read apart: [id, hash latin1]. */
  deferred: Array<[number, string]>;
}

/**
 * The stored tree nodes against the ones recomputed from the entries: a node that
 * differs pins a changed entry down to its 16 (or more) entries even when its leaf
 * hash was rewritten too.
 */
export function checkStoredNodes(db: SqliteDb, c: IntegrityChecker): { findings: Finding[]; checked: number } {
  const scan = scanStoredNodes(db, c.nodes, { ids: [0, Number.MAX_SAFE_INTEGER] });
  return { findings: nodeFindings(scan.bad, c.nodes.size - scan.present), checked: scan.checked };
}

/**
 * The stored nodes of in-order positions [ids[0], ids[1]) against `nodes`. One the
 * recomputed nodes lack is one the log does not hold, unless `defer` says it spans
 * entries read elsewhere (its leaves from..to): it is then left for later.
 */
export function scanStoredNodes(db: SqliteDb, nodes: ReadonlyMap<number, string>, o: { ids: [number, number]; defer?: (from: number, to: number) => boolean }): NodeScan {
  // A page of nodes in one row (ids as text, hashes back to back): a Buffer per row costs more than the comparison.
  const page = db
    .prepare(
      "SELECT count(*), max(id), group_concat(id), CAST(group_concat(hash, '') AS BLOB), min(length(hash)), max(length(hash)) FROM (SELECT id, hash FROM audit_tree_nodes WHERE id >= ? AND id < ? ORDER BY id LIMIT 50000)",
    )
    .raw();
  // A hash of another length (the table's CHECK removed) would shift the ones after it: such a page is read row by row.
  const rows = db.prepare('SELECT id, hash FROM audit_tree_nodes WHERE id >= ? AND id < ? ORDER BY id LIMIT 50000').raw();
  const out: NodeScan = { bad: [], present: 0, checked: 0, deferred: [] };
  let next = o.ids[0];
  for (;;) {
    const [count, last, idList, blob, shortest, longest] = page.get(next, o.ids[1]) as [number, number | null, string | null, Buffer | null, number, number];
    if (!count || last === null || idList === null || blob === null) break;
    let ids: number[];
    let hashAt: (k: number) => string;
    let same: (k: number, mine: string) => boolean;
    if (shortest === 32 && longest === 32) {
      const hashes = blob.toString('latin1');
      ids = idList.split(',').map(Number);
      hashAt = (k) => hashes.slice(k * 32, k * 32 + 32);
      same = (k, mine) => hashes.startsWith(mine, k * 32);
    } else {
      const all = rows.all(next, o.ids[1]) as Array<[number, Buffer]>;
      ids = all.map((r) => r[0]);
      hashAt = (k) => all[k]![1].toString('latin1');
      same = (k, mine) => hashAt(k) === mine;
    }
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      const mine = nodes.get(id);
      out.checked++;
      if (mine !== undefined) out.present++;
      if (mine !== undefined && same(k, mine)) continue;
      const { level, index } = positionOf(id);
      const from = index * 2 ** level;
      const to = from + 2 ** level - 1;
      if (mine === undefined && o.defer?.(from, to)) out.deferred.push([id, hashAt(k)]);
      else out.bad.push({ level, from, to, beyond: mine === undefined });
    }
    next = last + 1;
  }
  return out;
}

/**
 * Findings from the nodes that differ: the smallest blocks only, since a node is wrong
 * whenever one of its children is; and how many recomputed nodes are not stored.
 */
export function nodeFindings(bad: readonly BadNode[], missing: number): Finding[] {
  const findings: Finding[] = [];
  // The blocks are aligned, so a bad node hides every ancestor: mark those (one walk up each,
  // linear in the bad nodes; comparing every pair took seconds on a log cut short).
  let top = 0;
  for (const x of bad) top = Math.max(top, x.level);
  const hidden = new Set<string>();
  for (const y of bad) for (let l = y.level + 1; l <= top; l++) hidden.add(`${l}:${Math.floor(y.from / 2 ** l)}`);
  const smallest = bad.filter((x) => !hidden.has(`${x.level}:${x.from / 2 ** x.level}`));
  for (const x of smallest.sort((a, b) => a.from - b.from)) {
    findings.push(
      x.beyond
        ? { kind: 'tampering', check: 'tree-node-beyond-log', seq: x.from, range: { from: x.from, to: x.to }, message: `the stored tree covers entries ${x.from} to ${x.to}, which the log does not hold: entries were removed` }
        : { kind: 'tampering', check: 'tree-node', seq: x.from, range: { from: x.from, to: x.to }, message: `one of the entries ${x.from} to ${x.to} is not the one the stored tree was built from: it was changed after it was written` },
    );
  }
  // The checker keeps only nodes of STORED_FROM levels and up: each one the store lacks is missing.
  if (missing) findings.push({ kind: 'warning', check: 'tree-nodes-missing', message: `${missing} tree nodes are not stored (the store rebuilds them when it next opens)` });
  return findings;
}

/** (level, index) of an in-order node position: the level is the number of trailing 1 bits. */
export function positionOf(id: number): { level: number; index: number } {
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


// Entries the gateway writes in a fixed shape, matched whole (anchored, canonical JSON,
// no escapes in the captured values): what they say is exactly what JSON.parse would
// read, at a fraction of its cost. Anything else is parsed.
const ID = '"actionId":"([A-Za-z0-9_.:-]{1,200})"';
const SYSTEM = '"actor":\\{"id":"countersign","type":"system"\\}';
const FP = 'sha256:[0-9a-f]{64}';
const TAIL = (type: string) => `,"seq":[0-9]{1,16},"ts":"([0-9T:.Z+-]{1,40})","type":"${type.replace('.', '\\.')}","v":1\\}$`;
const STARTED = new RegExp(`^\\{${ID},${SYSTEM},"data":\\{"fingerprint":"(${FP})"\\}${TAIL('execution.started')}`);
// A JSON string as runs of plain characters between escapes (entry-shapes.ts, STR).
const JSON_STRING = '"[^"\\\\\\u0000-\\u001f]*(?:\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\\\\u0000-\\u001f]*)*"';
const DECIDED = new RegExp(
  `^\\{${ID},${SYSTEM},"data":\\{"fingerprint":"(${FP})","outcome":"(allow|deny)","policyVersion":"([^"\\\\\\u0000-\\u001f]{1,200})","reason":${JSON_STRING},"rules":\\[(?:${JSON_STRING}(?:,${JSON_STRING})*)?\\]\\}${TAIL('action.decided')}`,
);
const SYSTEM_ACTOR = { type: 'system', id: 'countersign' } as const;

/** The few facts governance needs from a fixed-shape entry, or undefined to parse it. */
export function fastEntry(p: string, seq: number): ParsedEntry | undefined {
  if (p.endsWith('"type":"execution.started","v":1}')) return startedEntry(p, seq);
  if (p.endsWith('"type":"action.decided","v":1}') && !p.includes('"outcome":"review"')) return decidedEntry(p, seq);
  return undefined;
}

function startedEntry(p: string, seq: number): ParsedEntry | undefined {
  const m = STARTED.exec(p);
  return m ? { seq, ts: m[3]!, type: 'execution.started', actionId: m[1]!, actor: SYSTEM_ACTOR, data: { fingerprint: m[2]! } } : undefined;
}

function decidedEntry(p: string, seq: number): ParsedEntry | undefined {
  const m = DECIDED.exec(p);
  return m ? { seq, ts: m[5]!, type: 'action.decided', actionId: m[1]!, actor: SYSTEM_ACTOR, data: { fingerprint: m[2]!, outcome: m[3]!, policyVersion: m[4]! } } : undefined;
}

/**
 * Text decoded at once, at most: V8 keeps a string decoded from a Buffer of 1 MB or more
 * outside its heap, and reading entries out of such a string costs an eighth more; one
 * over 128 KB takes fresh pages of its own each time, which cost more than the decoding
 * (0.4 µs per entry for pieces of 512 KB, 0.09 µs for pieces of 64 KB; measured).
 */
const PIECE = 64 * 1024;

/**
 * Feeds a chunk to the governance checker. The common entries in the gateway's canonical
 * shape are matched whole (entry-shapes.ts, fastEntry); the others are parsed, and one
 * that is not JSON is reported.
 */
export function governChunk(g: GovernanceChecker, c: EntryChunk, bad: (f: Finding) => void): number {
  const { blob } = c;
  let k = 0;
  // Pieces end before a 0x00 prefix, which UTF-8 never holds inside a character.
  for (let from = 0; from < blob.length; ) {
    let to = blob.length;
    if (to - from > PIECE) {
      const at = blob.lastIndexOf(0, from + PIECE);
      to = at > from ? at : blob.indexOf(0, from + PIECE);
      if (to < 0) to = blob.length;
    }
    const piece = blob.subarray(from, to);
    const parts = piece.toString(isAscii(piece) ? 'latin1' : 'utf8').split('\0');
    for (let x = 1; x < parts.length; x++, k++) governEntry(g, parts[x]!, c.seqs ? c.seqs[k]! : c.first + k, bad);
    from = to;
  }
  return k;
}

function governEntry(g: GovernanceChecker, p: string, seq: number, bad: (f: Finding) => void): void {
  // Which fast reader to try, from the type's third and fourth characters from the end
  // (finis[h]ed, submi[tt]ed, sta[rt]ed, deci[d]ed, revie[w]ed; the entry ends `<type>","v":1}`).
  // Each reader matches the whole entry, its type included: a wrong guess costs a parse,
  // never a wrong reading. Two character reads cost less than the endsWith tests they
  // replace (measured).
  let fast: ParsedEntry | undefined;
  switch (p.charCodeAt(p.length - 11)) {
    case 0x68: {
      const actionId = finishedAction(p);
      if (actionId !== undefined) return g.finished(seq, actionId);
      break;
    }
    case 0x74:
      fast = p.charCodeAt(p.length - 12) === 0x74 ? submittedEntry(p, seq) : startedEntry(p, seq);
      break;
    case 0x64:
      fast = decidedEntry(p, seq);
      break;
    case 0x77:
      fast = reviewedEntry(p, seq);
      break;
  }
  if (fast) return g.add(fast);
  let e: ParsedEntry;
  try {
    e = JSON.parse(p) as ParsedEntry;
  } catch {
    bad({ kind: 'tampering', check: 'malformed-entry', seq, message: `entry ${seq} is not JSON: it is not an entry as written` });
    return;
  }
  if (!e || typeof e !== 'object' || typeof e.type !== 'string' || !e.data || typeof e.data !== 'object') {
    bad({ kind: 'tampering', check: 'malformed-entry', seq, message: `entry ${seq} is not shaped like an audit entry` });
    return;
  }
  e.seq = seq;
  g.add(e);
}
