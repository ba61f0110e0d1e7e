// Verification in two halves, one per thread: each reads its half of the log, checks
// its integrity and its governance; the halves are then joined. RFC 9162 trees split at
// aligned subtrees: every perfect subtree inside either half is the same as in the whole
// tree, so the later half comes back as a compact range, joined to the earlier half's
// edge (merkle-range.ts); governance of the later half sets aside what depends on the
// earlier one (audit-governance-range.ts). See docs/benchmarks.md, "Audit log".
import type { Finding } from '../../domain/audit-finding.js';
import type { GovernanceChecker } from '../../domain/audit-governance.js';
import type { GovernanceRangePart } from '../../domain/audit-governance-range.js';
import { absorbRange, GovernanceRangeChecker } from '../../domain/audit-governance-range.js';
import type { EntryChunk } from '../../domain/audit-integrity.js';
import { IntegrityChecker } from '../../domain/audit-integrity.js';
import type { RangeNode } from '../../domain/merkle-range.js';
import { CompactRange, joinRange } from '../../domain/merkle-range.js';
import { nodeId, STORED_FROM } from '../store/sqlite/sqlite-tree.js';
import { chunksOf, openReadOnly } from './entry-source.js';
import type { IntegrityResult, NodeScan } from './verify-pass.js';
import { createIntegrity, governChunk, nodeFindings, positionOf, scanStoredNodes } from './verify-pass.js';

/** Findings one side keeps (the rest are counted). */
const LIMIT = 1000;

/** Where the later half begins: near the middle, at a multiple of 4,096 (a chunk) when the log is long enough; undefined below 2 entries. */
export function splitAt(start: number, end: number): number | undefined {
  if (end - start < 2) return undefined;
  const block = 4096;
  const m = Math.round((start + end) / 2 / block) * block;
  return m > start && m < end ? m : Math.floor((start + end) / 2);
}

/** What the later half needs to be checked anywhere (structured-cloneable: the worker's data). */
export interface LaterHalf {
  path: string;
  from: number;
  to: number;
  /** Sizes in (from, to] whose roots are wanted. */
  rootsAt: number[];
  checkNodes: boolean;
  governance: boolean;
}

/** What the later half gives back (structured-cloneable). */
export interface LaterResult {
  /** One past the last entry read. */
  size: number;
  findings: Finding[];
  problems: number;
  /** Its subtrees at each size asked for, and at its end. */
  ranges: Array<[number, RangeNode[]]>;
  tail: RangeNode[];
  /** Recomputed nodes kept (STORED_FROM levels and up). */
  nodes: number;
  scan?: NodeScan;
  governance?: GovernanceRangePart;
  /** Entries governance could not read (tampering): the first ones, and how many. */
  malformed: { list: Finding[]; count: number };
}

/** Stored nodes that span `at` are checked when the halves are joined. */
const spans = (at: number) => (from: number, to: number) => from < at && to >= at;

function scanNodes(path: string, nodes: ReadonlyMap<number, string>, ids: [number, number], at: number): NodeScan {
  const db = openReadOnly(path);
  try {
    return scanStoredNodes(db, nodes, { ids, defer: spans(at) });
  } finally {
    db.close();
  }
}

/** The later half, read and checked here (in the worker, or inline); `done` sees the entries read so far. */
export function checkLaterHalf(h: LaterHalf, done?: (n: number) => void): LaterResult {
  const integrity = new IntegrityChecker({ start: h.from, range: new CompactRange(h.from), rootsAt: h.rootsAt, ...(h.checkNodes ? { keepNodesFrom: STORED_FROM } : {}) });
  const gov = h.governance ? new GovernanceRangeChecker(LIMIT) : undefined;
  const malformed: LaterResult['malformed'] = { list: [], count: 0 };
  const bad = (f: Finding) => {
    malformed.count++;
    if (malformed.list.length < LIMIT) malformed.list.push(f);
  };
  for (const chunk of chunksOf({ kind: 'db', path: h.path }, h.from, h.to)) {
    integrity.addChunk(chunk);
    if (gov) governChunk(gov, chunk, bad);
    done?.(integrity.size - h.from);
  }
  // Nodes from the later half's first position on: 2 * from is the in-order position of its first leaf.
  const scan = h.checkNodes ? scanNodes(h.path, integrity.nodes, [2 * h.from, Number.MAX_SAFE_INTEGER], h.from) : undefined;
  const ranges = [...integrity.ranges].filter(([s]) => s !== h.from);
  return {
    size: integrity.size,
    findings: integrity.findings,
    problems: integrity.problems,
    ranges,
    tail: integrity.rangeNodes(),
    nodes: integrity.nodes.size,
    ...(scan ? { scan } : {}),
    ...(gov ? { governance: gov.part() } : {}),
    malformed,
  };
}

/** The earlier half, checked here: its integrity checker (its edge joins the later half), and its stored nodes. */
export interface EarlierResult {
  integrity: IntegrityChecker;
  scan?: NodeScan;
}

/** The earlier half [start, at): read, integrity and (through `gov`) governance, yielding now and then to let timers run. */
export async function checkEarlierHalf(
  o: { path: string; start: number; at: number; rootsAt: number[]; checkNodes: boolean },
  gov: ((c: EntryChunk) => void) | undefined,
  done?: (n: number) => void,
): Promise<EarlierResult> {
  const integrity = createIntegrity({ start: o.start, edge: [], rootsAt: o.rootsAt.filter((s) => s <= o.at), checkNodes: o.checkNodes });
  let k = 0;
  for (const chunk of chunksOf({ kind: 'db', path: o.path }, o.start, o.at)) {
    integrity.addChunk(chunk);
    gov?.(chunk);
    done?.(integrity.size - o.start);
    if (++k % 64 === 0) await new Promise((r) => setImmediate(r));
  }
  // Positions below 2 * at: every node that starts in the earlier half (one that reaches past it is deferred).
  const scan = o.checkNodes ? scanNodes(o.path, integrity.nodes, [0, 2 * o.at], o.at) : undefined;
  return { integrity, ...(scan ? { scan } : {}) };
}

/**
 * The two halves joined: the roots at sizes in the later half (its subtrees appended
 * to the earlier half's edge), the stored nodes that span both, the findings of both.
 * Undefined when the earlier half lacks entries: every later position would then be
 * off by as many, and only one pass in order says what the tree is (the caller runs it).
 */
export function joinIntegrity(at: number, early: EarlierResult, late: LaterResult): IntegrityResult | undefined {
  const e = early.integrity;
  if (e.size !== at) return undefined;
  const edge = e.rightEdge();
  const roots: IntegrityResult['roots'] = [...e.roots].map(([size, root]) => [size, Buffer.from(root).toString('base64')]);
  for (const [size, nodes] of late.ranges) roots.push([size, joinRange(edge, nodes).root().toString('base64')]);
  // The subtrees that span the two halves are complete only once both are known.
  const spanning = new Map<number, string>();
  joinRange(edge, late.tail, (level, index, hash) => {
    if (level >= STORED_FROM) spanning.set(nodeId(level, index), hash);
  });
  const findings = [...e.findings, ...late.findings].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)).slice(0, LIMIT);
  const result: IntegrityResult = { size: late.size, roots, findings, problems: e.problems + late.problems, nodesChecked: 0 };
  if (early.scan && late.scan) {
    let present = early.scan.present + late.scan.present;
    const bad = [...early.scan.bad, ...late.scan.bad];
    for (const [id, hash] of [...early.scan.deferred, ...late.scan.deferred]) {
      const mine = spanning.get(id);
      if (mine !== undefined) present++;
      if (mine === hash) continue;
      const { level, index } = positionOf(id);
      const from = index * 2 ** level;
      bad.push({ level, from, to: from + 2 ** level - 1, beyond: mine === undefined });
    }
    const nodeFound = nodeFindings(bad, e.nodes.size + late.nodes + spanning.size - present);
    result.findings.push(...nodeFound);
    result.problems += nodeFound.filter((f) => f.kind === 'tampering').length;
    result.nodesChecked = early.scan.checked + late.scan.checked;
  }
  return result;
}

/**
 * Governance of the later half joined to the checker of the earlier one; false when it
 * cannot be (an action begun in the later half was seen before it: the caller checks
 * governance in one pass). Entries governance could not read go to `bad`.
 */
export function joinGovernance(into: GovernanceChecker, late: LaterResult, bad: (f: Finding) => void, uncounted: (n: number) => void): boolean {
  if (!late.governance || !absorbRange(into, late.governance, LIMIT)) return false;
  for (const f of late.malformed.list) bad(f);
  uncounted(late.malformed.count - late.malformed.list.length);
  return true;
}

