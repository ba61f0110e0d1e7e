import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckpointRecord } from '../../domain/audit-checkpoint-checks.js';
import type { Finding } from '../../domain/audit-finding.js';
import { readCheckpoint } from '../../domain/checkpoint.js';
import type { VerifierKey } from '../../domain/signed-note.js';
import { decodeBase64, parseVerifierKey } from '../../domain/signed-note.js';
import { SUMMARY_FILES } from '../../domain/audit-summary-files.js';
import { readWitnessDirectory } from '../witness/directory-witness.js';
import type { BundleSummaryFiles } from './bundle-summary-check.js';
import { dbSize, openReadOnly } from './entry-source.js';
import type { VerifyPlan } from './verifier.js';

export interface PlanKeys {
  keys: VerifierKey[];
  witnessKeys: VerifierKey[];
  origin?: string | undefined;
  witnessDirs: string[];
}

function witnessCopies(dirs: readonly string[]): VerifyPlan['witnessCopies'] {
  return dirs.flatMap((d) => {
    if (!existsSync(d)) throw new Error(`witness folder ${d} does not exist`);
    return readWitnessDirectory(d);
  });
}

/** The whole log of a database, read-only. */
export function planFromDatabase(path: string, k: PlanKeys): VerifyPlan {
  if (!existsSync(path)) throw new Error(`no database at ${path}`);
  const db = openReadOnly(path);
  try {
    const end = dbSize(db);
    const rows = db.prepare('SELECT size, root, note FROM audit_checkpoints ORDER BY size').all() as Array<{ size: number; root: Buffer; note: string }>;
    const cosigs = db.prepare('SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness').pluck();
    const checkpoints: CheckpointRecord[] = rows.map((r) => ({ size: r.size, root: r.root, note: r.note, cosignatures: cosigs.all(r.size) as string[] }));
    return {
      spec: { kind: 'db', path },
      start: 0,
      end,
      edge: [],
      checkpoints,
      witnessCopies: witnessCopies(k.witnessDirs),
      proofs: [],
      context: [],
      keys: k.keys,
      witnessKeys: k.witnessKeys,
      origin: k.origin,
      checkNodes: true,
      mustBeSigned: false,
      known: [],
      findings: [],
    };
  } finally {
    db.close();
  }
}

/** What `audit export` writes in manifest.json. */
export interface BundleManifest {
  format: 'countersign-audit-bundle/v1';
  origin: string;
  createdAt: string;
  range: { start: number; end: number; since?: string; until?: string };
  /** The tree's edge at range.start (base64 hashes, largest subtree first). */
  edge: string[];
  checkpoints: string[];
  /** Consistency proofs from range.end to each later checkpoint, and between consecutive later ones. */
  proofs: Array<{ from: number; to: number; proof: string[] }>;
  files: { entries: string; context: string; keys: string; witnessKeys?: string; summaryJson: string; summaryMarkdown: string };
}

function b64s(xs: readonly string[], what: string): Buffer[] {
  return xs.map((x) => {
    const b = decodeBase64(x);
    if (!b || b.length !== 32) throw new Error(`${what}: not a base64 SHA-256 hash`);
    return b;
  });
}

export function readKeysFile(file: string): VerifierKey[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map(parseVerifierKey);
}

const CHECKPOINT_FILE = /^checkpoints\/([0-9]{16})\.checkpoint$/;

/**
 * The checkpoints a bundle's manifest lists, each read from its file, and everything in
 * which the files and the manifest disagree: export writes one file per checkpoint,
 * named for its size, listed in size order; any other state is an edit, and removing
 * checkpoints (file or line) is how an edit to the entries they covered would hide.
 * Paths are only ever the ones of that pattern: the manifest cannot point elsewhere.
 */
export function bundleCheckpoints(dir: string, listed: unknown): { records: CheckpointRecord[]; findings: Finding[] } {
  if (!Array.isArray(listed)) throw new Error(`${dir}/manifest.json: checkpoints is not a list of files`);
  const findings: Finding[] = [];
  const bad = (f: Omit<Finding, 'kind'>) => findings.push({ kind: 'tampering', ...f });
  const folder = join(dir, 'checkpoints');
  const onDisk = new Set(existsSync(folder) ? readdirSync(folder, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.checkpoint')).map((e) => `checkpoints/${e.name}`) : []);
  const records: CheckpointRecord[] = [];
  const seen = new Set<string>();
  let previous = -1;
  for (const f of listed as unknown[]) {
    const m = typeof f === 'string' ? CHECKPOINT_FILE.exec(f) : null;
    if (!m) {
      bad({ check: 'bundle-checkpoint-name', message: `the manifest lists ${JSON.stringify(f)} as a checkpoint: export writes checkpoints/<size, 16 digits>.checkpoint only` });
      continue;
    }
    const file = m[0];
    const size = Number(m[1]);
    if (seen.has(file)) {
      bad({ check: 'bundle-checkpoint-order', checkpoint: size, message: `the manifest lists ${file} twice` });
      continue;
    }
    seen.add(file);
    if (size <= previous) bad({ check: 'bundle-checkpoint-order', checkpoint: size, message: `the manifest lists ${file} after the checkpoint of ${previous} entries: export lists them in size order, these were reordered` });
    previous = Math.max(previous, size);
    if (!onDisk.has(file)) {
      bad({ check: 'bundle-checkpoint-missing', checkpoint: size, message: `the manifest lists ${file}, which is not in the bundle: a checkpoint was removed` });
      continue;
    }
    const note = readFileSync(join(dir, file), 'utf8');
    let claimed: number | undefined;
    try {
      claimed = readCheckpoint(note).size;
    } catch {
      // An unreadable note is reported by the signature check.
    }
    if (claimed !== undefined && claimed !== size) {
      bad({ check: 'bundle-checkpoint-name', checkpoint: size, message: `${file} holds the checkpoint of ${claimed} entries: checkpoint files were renamed or swapped`, expected: String(size), found: String(claimed) });
    }
    records.push({ note });
  }
  for (const file of [...onDisk].sort()) {
    if (!seen.has(file)) bad({ check: 'bundle-checkpoint-unlisted', message: `${file} is in the bundle but not in its manifest: the manifest was edited (a checkpoint's line removed)` });
  }
  return { records, findings };
}

/**
 * A bundle's summary files, read from the names export writes: the manifest cannot
 * point elsewhere (another name listed is an edit, reported).
 */
function bundleSummaries(dir: string, manifest: BundleManifest): { files: BundleSummaryFiles; findings: Finding[] } {
  const findings: Finding[] = [];
  const listed = { json: manifest.files.summaryJson, markdown: manifest.files.summaryMarkdown };
  const read = (k: keyof BundleSummaryFiles) => {
    if (listed[k] !== SUMMARY_FILES[k]) findings.push({ kind: 'tampering', check: 'bundle-summary-name', message: `the manifest lists ${JSON.stringify(listed[k])} as the summary: export writes ${SUMMARY_FILES[k]}`, expected: SUMMARY_FILES[k], found: String(listed[k]) });
    const file = join(dir, SUMMARY_FILES[k]);
    return existsSync(file) ? readFileSync(file, 'utf8') : null;
  };
  return { files: { json: read('json'), markdown: read('markdown') }, findings };
}

/**
 * A bundle written by `audit export`. The keys it ships are used only when no key is
 * given (`bundleKeys`): a bundle proves nothing against keys it brings itself, unless
 * they are compared with the operator's published key.
 */
export function planFromBundle(dir: string, k: PlanKeys): { plan: VerifyPlan; manifest: BundleManifest; bundleKeys: VerifierKey[] } {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as BundleManifest;
  if (manifest.format !== 'countersign-audit-bundle/v1') throw new Error(`${dir} is not a Countersign audit bundle (manifest format ${String(manifest.format)})`);
  const bundleKeys = readKeysFile(join(dir, manifest.files.keys));
  const witnessKeys = manifest.files.witnessKeys && existsSync(join(dir, manifest.files.witnessKeys)) ? readKeysFile(join(dir, manifest.files.witnessKeys)) : [];
  // The manifest is the bundle holder's to edit: its numbers are checked before use.
  const range = (manifest.range ?? {}) as { start?: unknown; end?: unknown };
  if (!Number.isSafeInteger(range.start) || !Number.isSafeInteger(range.end) || (range.start as number) < 0 || (range.end as number) < (range.start as number)) {
    throw new Error(`${dir}/manifest.json: the range is not two entry numbers, start <= end`);
  }
  const { start, end } = manifest.range;
  const context: VerifyPlan['context'] = [];
  const ctxFile = join(dir, manifest.files.context);
  if (existsSync(ctxFile)) {
    for (const line of readFileSync(ctxFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const c = JSON.parse(line) as { seq: number; entry: string; proof: string[] };
      context.push({ seq: c.seq, bytes: Buffer.from(c.entry, 'utf8'), proof: b64s(c.proof, `context entry ${c.seq}`) });
    }
  }
  const cps = bundleCheckpoints(dir, manifest.checkpoints);
  const summaries = bundleSummaries(dir, manifest);
  const plan: VerifyPlan = {
    spec: { kind: 'bundle', file: join(dir, manifest.files.entries), first: start },
    start,
    end,
    edge: manifest.edge,
    checkpoints: cps.records,
    witnessCopies: witnessCopies(k.witnessDirs),
    proofs: manifest.proofs.map((p) => ({ from: p.from, to: p.to, proof: b64s(p.proof, `consistency proof ${p.from} to ${p.to}`) })),
    context,
    keys: k.keys.length ? k.keys : bundleKeys,
    witnessKeys: k.witnessKeys.length ? k.witnessKeys : witnessKeys,
    origin: k.origin ?? manifest.origin,
    checkNodes: false,
    mustBeSigned: true,
    known: [],
    findings: [...cps.findings, ...summaries.findings],
    summaries: summaries.files,
  };
  b64s(manifest.edge, 'the range edge');
  return { plan, manifest, bundleKeys };
}
