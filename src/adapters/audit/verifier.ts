import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CheckpointRecord, CheckpointSummary } from '../../domain/audit-checkpoint-checks.js';
import { checkCheckpoints, checkWitnessCopies } from '../../domain/audit-checkpoint-checks.js';
import { leafHash } from '../../domain/audit-entry.js';
import type { Finding } from '../../domain/audit-finding.js';
import { compareFindings, Findings } from '../../domain/audit-finding.js';
import type { GovernanceStats, ParsedEntry } from '../../domain/audit-governance.js';
import { GovernanceChecker } from '../../domain/audit-governance.js';
import type { KnownCheckpoint, KnownResult } from '../../domain/audit-coverage.js';
import { checkKnownCheckpoints, coverageOf, uncoveredInBundle, unsignedInLog } from '../../domain/audit-coverage.js';
import type { EntryChunk } from '../../domain/audit-integrity.js';
import { readCheckpoint } from '../../domain/checkpoint.js';
import { verifyInclusion } from '../../domain/merkle.js';
import type { VerifierKey } from '../../domain/signed-note.js';
import type { BundleSummaryFiles } from './bundle-summary-check.js';
import { checkBundleSummary } from './bundle-summary-check.js';
import type { SourceSpec } from './entry-source.js';
import { chunksOf, openReadOnly } from './entry-source.js';
import type { IntegrityResult } from './verify-pass.js';
import { checkStoredNodes, createIntegrity, governChunk, integrityResult } from './verify-pass.js';
import type { LaterResult } from './verify-split.js';
import { checkEarlierHalf, checkLaterHalf, joinGovernance, joinIntegrity, splitAt } from './verify-split.js';
import type { LaterHalfData, VerifyWorkerData } from './verify-worker.js';

/** Everything a verification looks at, gathered from a database or a bundle. */
export interface VerifyPlan {
  spec: SourceSpec;
  /** The entries checked: [start, end). */
  start: number;
  end: number;
  /** The tree's edge at `start` (base64 hashes), when start > 0. */
  edge: string[];
  checkpoints: CheckpointRecord[];
  witnessCopies: Array<{ source: string; note: string }>;
  /** Consistency proofs from `end` to later checkpoints and between them (bundles). */
  proofs: Array<{ from: number; to: number; proof: Uint8Array[] }>;
  /** Earlier entries the governance checks need (bundles), each with its inclusion proof at `end`. */
  context: Array<{ seq: number; bytes: Buffer; proof: Uint8Array[] }>;
  keys: VerifierKey[];
  witnessKeys: VerifierKey[];
  origin?: string | undefined;
  /** Compare the stored tree nodes too (databases). */
  checkNodes: boolean;
  /**
   * Every entry must be proven by a signed checkpoint (bundles: export writes only
   * signed entries). A live log's newest entries wait for their checkpoint: there,
   * the report says which entries are proven and which are not yet.
   */
  mustBeSigned: boolean;
  /** Checkpoints the auditor kept from before (`--known-checkpoint`), opened with the trusted keys. */
  known: KnownCheckpoint[];
  /** What reading the source found already (a bundle's files against its manifest). */
  findings: Finding[];
  /** A bundle's summary files as read, to compare with the ones its entries give (bundles). */
  summaries?: BundleSummaryFiles | undefined;
}

export type VerifyResult = 'verified' | 'tampered' | 'governance';

/** Exit codes of `audit verify`: documented in docs/cli.md. */
export const VERIFY_EXIT = { verified: 0, tampered: 3, governance: 4 } as const;

export interface VerifyReport {
  result: VerifyResult;
  exitCode: number;
  entries: { start: number; end: number; checked: number };
  /** Root of the entries checked (base64). */
  root?: string;
  /**
   * Which entries a signature proves (`proven`, inclusive bounds) and which are only
   * consistent with the log (`unproven`, a live log's newest entries); null when none.
   * `checkpoint` is the tree size of the signed checkpoint that proves them.
   */
  coverage: { proven: { from: number; to: number; checkpoint: number } | null; unproven: { from: number; to: number } | null };
  /** Each --known-checkpoint and whether the log agrees with it. */
  known: KnownResult[];
  checkpoints: CheckpointSummary;
  witnesses: { copies: number; checked: number };
  governance: GovernanceStats & { violations: number };
  treeNodesChecked: number;
  /** Where the log was split in two halves checked apart, and what had to be checked again in one pass (entries missing, an action seen in both). */
  halves?: { at: number; again: Array<'integrity' | 'governance'> };
  counts: { tampering: number; governance: number; warning: number };
  /** False when governance was not checked (--integrity-only). */
  governanceChecked: boolean;
  /** The first problem of the kind that decided the result. */
  first?: Finding;
  findings: Finding[];
  seconds: number;
  entriesPerSecond: number;
}

const WORKER_URL = new URL('./verify-worker.js', import.meta.url);

function workerAvailable(): boolean {
  return WORKER_URL.protocol === 'file:' && existsSync(fileURLToPath(WORKER_URL));
}

function sizesWanted(plan: VerifyPlan): number[] {
  const sizes = new Set<number>([plan.end]);
  const claim = (note: string) => {
    try {
      return readCheckpoint(note).size;
    } catch {
      return undefined;
    }
  };
  for (const c of plan.checkpoints) {
    const s = c.size ?? claim(c.note);
    if (s !== undefined && s >= plan.start && s <= plan.end) sizes.add(s);
  }
  for (const w of plan.witnessCopies) {
    const s = claim(w.note);
    if (s !== undefined && s >= plan.start && s <= plan.end) sizes.add(s);
  }
  for (const k of plan.known) if (k.size >= plan.start && k.size <= plan.end) sizes.add(k.size);
  return [...sizes];
}

type Progress = (done: number, total: number) => void;

/** Integrity and governance in one thread (tests from sources; or when asked). */
async function runInline(plan: VerifyPlan, gov: ((c: EntryChunk) => void) | undefined, progress?: Progress): Promise<IntegrityResult> {
  const integrity = createIntegrity({ start: plan.start, edge: plan.edge, rootsAt: sizesWanted(plan), checkNodes: plan.checkNodes });
  for (const chunk of chunksOf(plan.spec, plan.start, plan.end)) {
    integrity.addChunk(chunk);
    gov?.(chunk);
    const done = integrity.size - plan.start;
    progress?.(done, plan.end - plan.start);
    // Let timers (the progress bar) run on long logs.
    if (done % (64 * 4096) < 4096) await new Promise((r) => setImmediate(r));
  }
  let nodes = { findings: [] as Finding[], checked: 0 };
  if (plan.checkNodes && plan.spec.kind === 'db') {
    const db = openReadOnly(plan.spec.path);
    try {
      nodes = checkStoredNodes(db, integrity);
    } finally {
      db.close();
    }
  }
  return integrityResult(integrity, nodes);
}

/** Integrity in a worker thread, governance here, on the same bytes (read once, handed over). */
function runThreaded(plan: VerifyPlan, gov: ((c: EntryChunk) => void) | undefined, progress?: Progress): Promise<IntegrityResult> {
  const flow = new SharedArrayBuffer(8);
  const counters = new Int32Array(flow);
  const data: VerifyWorkerData = {
    spec: plan.spec,
    from: plan.start,
    to: plan.end,
    integrity: { start: plan.start, edge: plan.edge, rootsAt: sizesWanted(plan), checkNodes: plan.checkNodes },
    flow,
    handOver: gov !== undefined,
  };
  const worker = new Worker(WORKER_URL, { workerData: data });
  return new Promise<IntegrityResult>((resolve, reject) => {
    worker.on('message', (m: { type: 'chunk'; first: number; blob: ArrayBuffer; seqs?: number[] } | { type: 'done'; result: IntegrityResult } | { type: 'error'; message: string }) => {
      if (m.type === 'chunk') {
        const chunk: EntryChunk = { first: m.first, blob: Buffer.from(m.blob), ...(m.seqs ? { seqs: m.seqs } : {}) };
        gov?.(chunk);
        Atomics.add(counters, 1, 1);
        Atomics.notify(counters, 1);
        progress?.(Math.min(plan.end - plan.start, (m.first - plan.start) + 4096), plan.end - plan.start);
      } else if (m.type === 'done') {
        void worker.terminate();
        resolve(m.result);
      } else {
        void worker.terminate();
        reject(new Error(m.message));
      }
    });
    worker.once('error', reject);
  });
}

/** Findings kept apart until it is known whether the halves join (their count goes on past the limit). */
function collector(): { add: (f: Finding) => void; list: Finding[]; count: number } {
  const c = { list: [] as Finding[], count: 0, add: (f: Finding) => void (c.count++ < 1000 && c.list.push(f)) };
  return c;
}

/**
 * A database's log in two halves, the later one in a worker thread (or after the
 * earlier one, inline): both read, check integrity and governance; then joined
 * (verify-split.ts). When they cannot be (entries missing from the earlier half; an
 * action begun in the later half seen before it), the whole log is checked again in one
 * pass, integrity and governance on the same bytes. Returns the governance checker that holds the result, and the tampering
 * findings counted beyond the lists.
 */
async function runSplit(
  plan: VerifyPlan,
  path: string,
  at: number,
  threaded: boolean,
  governance: GovernanceChecker | undefined,
  other: (f: Finding) => void,
  progress?: Progress,
): Promise<{ integrity: IntegrityResult; governance: GovernanceChecker | undefined; uncounted: number; again: Array<'integrity' | 'governance'> }> {
  const rootsAt = sizesWanted(plan);
  const later = { path, from: at, to: plan.end, rootsAt: rootsAt.filter((x) => x > at), checkNodes: plan.checkNodes, governance: governance !== undefined };
  const total = plan.end - plan.start;
  const flow = new SharedArrayBuffer(4);
  const laterDone = new Int32Array(flow);
  let worker: Worker | undefined;
  let late: Promise<LaterResult> | undefined;
  if (threaded) {
    const data: LaterHalfData = { later, flow };
    const w = (worker = new Worker(WORKER_URL, { workerData: data }));
    late = new Promise<LaterResult>((resolve, reject) => {
      w.on('message', (m: { type: 'done'; result: LaterResult } | { type: 'error'; message: string }) => (m.type === 'done' ? resolve(m.result) : reject(new Error(m.message))));
      w.once('error', reject);
    });
    // An early failure of the worker surfaces when it is awaited.
    late.catch(() => undefined);
  }
  try {
    const earlyBad = collector();
    const gov = governance ? (c: EntryChunk) => void governChunk(governance, c, earlyBad.add) : undefined;
    const early = await checkEarlierHalf({ path, start: plan.start, at, rootsAt, checkNodes: plan.checkNodes }, gov, (n) => progress?.(n + Atomics.load(laterDone, 0), total));
    const lateResult = late ? await late : checkLaterHalf(later, (n) => progress?.(at - plan.start + n, total));
    const joined = joinIntegrity(at, early, lateResult);
    let uncounted = 0;
    const lateBad: Finding[] = [];
    if (joined && !governance) return { integrity: joined, governance, uncounted, again: [] };
    if (joined && governance && joinGovernance(governance, lateResult, (f) => lateBad.push(f), (n) => (uncounted += n))) {
      // The earlier half's findings first: the report names the first bad entry.
      earlyBad.list.forEach(other);
      lateBad.forEach(other);
      return { integrity: joined, governance, uncounted: uncounted + earlyBad.count - earlyBad.list.length, again: [] };
    }
    // Not joined: both checks again, together, in one pass over the same bytes. Rechecking
    // only the part that failed would read the database a second time, and governance could
    // then judge bytes that integrity never hashed (a writer changing the file in between).
    const checker = governance ? new GovernanceChecker(1000) : undefined;
    const integrity = await runInline(plan, checker ? (c) => governChunk(checker, c, other) : undefined, progress);
    return { integrity, governance: checker, uncounted: 0, again: checker ? ['integrity', 'governance'] : ['integrity'] };
  } finally {
    if (worker) void worker.terminate();
  }
}

/**
 * Verifies entries, tree, checkpoints, witnesses' copies and governance, offline.
 * The result is `tampered` when anything shows the log is not what was written
 * (it takes precedence: governance read from tampered entries means little), else
 * `governance` when the intact log shows a rule broken, else `verified`; `verified`
 * vouches only for `coverage.proven`, the entries a signed checkpoint proves (in a
 * bundle, any entry outside it is tampering).
 */
export async function verifyAuditLog(
  plan: VerifyPlan,
  opts: {
    threads?: boolean | 'auto';
    progress?: Progress;
    governance?: boolean;
    /** Where a database's log is split in two halves (by default near the middle, when threads check integrity alone). Inline without threads. */
    split?: number;
  } = {},
): Promise<VerifyReport> {
  const checkGovernance = opts.governance ?? true;
  const t0 = process.hrtime.bigint();
  const findings = new Findings(1000);
  let governance = new GovernanceChecker(1000);
  const other = (f: Finding) => findings.add(f);

  // Earlier entries first, in order: they set the scene (policies loaded, actions submitted).
  const context = [...plan.context].sort((a, b) => a.seq - b.seq);
  if (checkGovernance) {
    for (const c of context) {
      const chunk: EntryChunk = { first: c.seq, blob: Buffer.concat([Buffer.from([0]), c.bytes]) };
      governChunk(governance, chunk, other);
    }
  }
  const gov = checkGovernance ? (c: EntryChunk) => void governChunk(governance, c, other) : undefined;
  // A worker pays off on long logs only (it takes tens of milliseconds to start).
  const threads = workerAvailable() && (opts.threads === true || ((opts.threads ?? 'auto') === 'auto' && plan.end - plan.start > 50_000));
  // Integrity alone of a database's log from its first entry is checked in two halves, one per
  // thread (verify-split.ts); with governance, integrity in a worker and governance here on the
  // same bytes measured faster (361,000 against 318,000 entries/s, the two alternated in one
  // process: docs/benchmarks.md), so halves with governance are used only when asked (`split`).
  // A bundle reads its file in order.
  const spec = plan.spec;
  const halved = opts.split !== undefined || (threads && !checkGovernance);
  const at = spec.kind === 'db' && plan.start === 0 && plan.context.length === 0 && halved ? (opts.split ?? splitAt(plan.start, plan.end)) : undefined;
  if (at !== undefined && !(at > plan.start && at < plan.end)) throw new RangeError(`cannot split [${plan.start}, ${plan.end}) at ${at}`);
  let uncounted = 0;
  let halves: VerifyReport['halves'];
  let integrity: IntegrityResult;
  if (at !== undefined && spec.kind === 'db') {
    const r = await runSplit(plan, spec.path, at, threads, checkGovernance ? governance : undefined, other, opts.progress);
    integrity = r.integrity;
    if (r.governance) governance = r.governance;
    uncounted = r.uncounted;
    halves = { at, again: r.again };
  } else integrity = threads ? await runThreaded(plan, gov, opts.progress) : await runInline(plan, gov, opts.progress);

  findings.merge(integrity.findings);
  findings.merge(governance.findings);
  findings.merge(plan.findings);
  const roots = new Map(integrity.roots.map(([s, r]) => [s, Buffer.from(r, 'base64')]));
  const end = roots.get(plan.end);
  if (integrity.size > plan.end) {
    findings.add({ kind: 'tampering', check: 'extra-entries', seq: plan.end, message: `the entries go on after ${plan.end - 1}, where the range ends: ${integrity.size - plan.end} entries were added`, expected: String(plan.end), found: String(integrity.size) });
  } else if (integrity.size !== plan.end) {
    findings.add({ kind: 'tampering', check: 'missing-entries', seq: integrity.size, message: `the log should hold entries up to ${plan.end - 1} but ends at ${integrity.size - 1}`, expected: String(plan.end), found: String(integrity.size) });
  }

  // A bundle's summaries must say what its entries say (compared only when the entries are all there).
  if (plan.summaries) findings.merge(checkBundleSummary(plan, plan.summaries, integrity.size === plan.end ? end?.toString('base64') : undefined));

  // Context entries must be in the tree the range belongs to.
  for (const c of context) {
    if (!end || !verifyInclusion(c.seq, plan.end, leafHash(c.bytes), c.proof, end)) {
      findings.add({ kind: 'tampering', check: 'context-inclusion', seq: c.seq, message: `entry ${c.seq} (context of the range) is not in the log the range belongs to: its inclusion proof fails` });
    }
  }

  const ctx = { keys: plan.keys, origin: plan.origin, start: plan.start, end: plan.end, roots, proofs: plan.proofs, witnessKeys: plan.witnessKeys, source: plan.spec.kind === 'bundle' ? ('bundle' as const) : ('log' as const) };
  const cps = checkCheckpoints(plan.checkpoints, ctx);
  findings.merge(cps.findings);
  const wit = checkWitnessCopies(plan.witnessCopies, ctx, cps.opened);
  findings.merge(wit.findings);
  const known = checkKnownCheckpoints(plan.known, ctx, cps, ctx.source);
  findings.merge(known.findings);

  // What a signature proves; only that is verified.
  const coverage = coverageOf([...cps.proven, ...wit.proven, ...known.proven], plan.start, plan.end);
  const unproven = plan.mustBeSigned ? uncoveredInBundle(coverage) : unsignedInLog(coverage, cps.opened.length > 0);
  if (unproven) findings.add(unproven);

  // Findings beyond the lists' limits still count.
  const counts = { ...findings.counts };
  counts.tampering += integrity.problems - integrity.findings.filter((f) => f.kind === 'tampering').length + uncounted;
  counts.governance += governance.violations - governance.findings.length;
  const result: VerifyResult = counts.tampering > 0 ? 'tampered' : counts.governance > 0 ? 'governance' : 'verified';
  const first = result === 'verified' ? undefined : findings.first(result === 'tampered' ? 'tampering' : 'governance', ['uncovered-entries']);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const checked = integrity.size - plan.start;
  return {
    result,
    exitCode: VERIFY_EXIT[result],
    entries: { start: plan.start, end: plan.end, checked },
    ...(end ? { root: end.toString('base64') } : {}),
    coverage: {
      proven: coverage.provenEnd > coverage.start && coverage.by !== undefined ? { from: coverage.start, to: coverage.provenEnd - 1, checkpoint: coverage.by } : null,
      unproven: coverage.end > coverage.provenEnd ? { from: coverage.provenEnd, to: coverage.end - 1 } : null,
    },
    known: known.results,
    checkpoints: cps.summary,
    witnesses: { copies: plan.witnessCopies.length, checked: wit.checked },
    governance: { ...governance.stats, violations: governance.violations },
    treeNodesChecked: integrity.nodesChecked,
    ...(halves ? { halves } : {}),
    governanceChecked: checkGovernance,
    counts,
    ...(first ? { first } : {}),
    findings: [...findings.list].sort(compareFindings),
    seconds,
    entriesPerSecond: seconds > 0 ? checked / seconds : 0,
  };
}

export type { ParsedEntry };
