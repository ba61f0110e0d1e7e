import { closeSync, existsSync, mkdirSync, openSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from '../../domain/audit-finding.js';
import type { AuditSummary } from '../../domain/audit-summary.js';
import { BundleSummary, SUMMARY_FILES } from '../../domain/audit-summary-files.js';
import { withCosignatures } from '../../domain/checkpoint.js';
import { consistencyProof, edgeNodes, inclusionProof, rootAt } from '../../domain/merkle.js';
import type { VerifierKey } from '../../domain/signed-note.js';
import type { SqliteDb } from '../store/sqlite/sqlite-db.js';
import { createTreeReader } from '../store/sqlite/sqlite-tree.js';
import { bundleReadme } from './bundle-readme.js';
import { dbSize, openReadOnly } from './entry-source.js';
import type { BundleManifest } from './verify-plans.js';

export interface ExportOptions {
  dbPath: string;
  out: string;
  since?: string | undefined;
  until?: string | undefined;
  origin: string;
  /** The log's verifier keys, shipped in keys/log.vkey (auditors should compare them with the published ones). */
  keys: readonly VerifierKey[];
  witnessKeys: readonly VerifierKey[];
  version: string;
  now: Date;
}

export interface ExportResult {
  manifest: BundleManifest;
  summary: AuditSummary;
  governance: { violations: number; first?: Finding };
  /** Entries after the last signed checkpoint, left out. */
  unsigned: number;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** The first sequence number whose entry is dated at or after `iso` (entries are appended in time order). */
function seqAtOrAfter(db: SqliteDb, size: number, iso: string): number {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) throw new Error(`not a date: ${iso}`);
  const tsOf = db.prepare('SELECT ts FROM audit_entries WHERE seq = ?').pluck();
  let lo = 0;
  let hi = size;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const ts = tsOf.get(mid) as string | undefined;
    if (ts !== undefined && Date.parse(ts) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function* rows(db: SqliteDb, start: number, end: number): Generator<[number, Buffer]> {
  const q = db.prepare('SELECT seq, bytes FROM audit_entries WHERE seq >= ? AND seq < ? ORDER BY seq LIMIT 10000').raw();
  for (let s = start; s < end; ) {
    const batch = q.all(s, end) as Array<[number, Buffer]>;
    if (batch.length === 0) return;
    yield* batch;
    s = batch[batch.length - 1]![0] + 1;
  }
}

/**
 * Writes an evidence bundle for the signed entries in [since, until): the entries
 * (entries.jsonl: each line the exact canonical bytes), every checkpoint covering
 * them, consistency proofs from the range to the later checkpoints, the tree's edge at
 * the range's start, the earlier entries the governance checks need (with inclusion
 * proofs), the verifier keys, a summary (Markdown and JSON) and a README for auditors.
 * Reads the database only.
 */
export function exportBundle(o: ExportOptions): ExportResult {
  if (existsSync(o.out) && readdirSync(o.out).length > 0) throw new Error(`${o.out} is not empty: give a new folder`);
  const db = openReadOnly(o.dbPath);
  try {
    const size = dbSize(db);
    const cps = db.prepare('SELECT size, root, note FROM audit_checkpoints ORDER BY size').all() as Array<{ size: number; root: Buffer; note: string }>;
    const latest = cps[cps.length - 1];
    if (!latest) throw new Error('the log has no signed checkpoint yet: start the gateway (it signs within audit.checkpoints.maxDelay), then export, or add --wait 30s to wait for it');
    const start = o.since ? seqAtOrAfter(db, size, o.since) : 0;
    const until = o.until ? seqAtOrAfter(db, size, o.until) : size;
    const end = Math.min(until, latest.size);
    if (start >= end) {
      const asked = start >= until ? 'the range holds no entries' : `the range holds entries ${start} to ${until - 1}`;
      throw new Error(`no signed entries in the range: ${asked}, and the last checkpoint covers entries 0 to ${latest.size - 1}`);
    }
    const tree = createTreeReader(db)();

    mkdirSync(join(o.out, 'checkpoints'), { recursive: true });
    mkdirSync(join(o.out, 'keys'), { recursive: true });

    // 1. The entries, verbatim, and the actions they touch.
    const touched = new Set<string>();
    const fd = openSync(join(o.out, 'entries.jsonl'), 'w');
    try {
      const nl = Buffer.from('\n');
      for (const [, bytes] of rows(db, start, end)) {
        writeSync(fd, bytes);
        writeSync(fd, nl);
        const m = /^\{"actionId":"([^"\\]+)"/.exec(bytes.subarray(0, 200).toString('latin1'));
        if (m) touched.add(m[1]!);
      }
    } finally {
      closeSync(fd);
    }

    // 2. Earlier entries the governance checks need: the policies loaded before, and the
    //    touched actions' earlier entries; each proven to be in the tree of `end` entries.
    const context = new Map<number, Buffer>();
    if (start > 0) {
      for (const [seq, bytes] of db.prepare("SELECT seq, bytes FROM audit_entries WHERE seq < ? AND type = 'policy.loaded' ORDER BY seq").raw().all(start) as Array<[number, Buffer]>) context.set(seq, bytes);
      const earlier = db.prepare('SELECT seq, bytes FROM audit_entries WHERE action_id = ? AND seq < ? ORDER BY seq').raw();
      for (const id of touched) for (const [seq, bytes] of earlier.all(id, start) as Array<[number, Buffer]>) context.set(seq, bytes);
    }
    const ctxSeqs = [...context.keys()].sort((a, b) => a - b);
    writeFileSync(
      join(o.out, 'context.jsonl'),
      ctxSeqs.map((seq) => `${JSON.stringify({ seq, entry: context.get(seq)!.toString('utf8'), proof: inclusionProof(tree, seq, end).map(b64) })}\n`).join(''),
    );

    // 3. Governance and summary over context, then the range.
    const summary = new BundleSummary(start, end);
    const feed = (seq: number, bytes: Buffer, inRange: boolean) => summary.add(seq, bytes.toString('utf8'), inRange);
    for (const seq of ctxSeqs) feed(seq, context.get(seq)!, false);
    for (const [seq, bytes] of rows(db, start, end)) feed(seq, bytes, true);

    // 4. Checkpoints covering the range; proofs linking the range's end to each later one,
    //    and each later one to the next (so that they are consistent among themselves too).
    const cosigs = db.prepare('SELECT line FROM audit_cosignatures WHERE size = ? ORDER BY witness').pluck();
    const files: string[] = [];
    const proofs: BundleManifest['proofs'] = [];
    for (const c of cps) {
      if (c.size <= start) continue;
      const name = `checkpoints/${String(c.size).padStart(16, '0')}.checkpoint`;
      writeFileSync(join(o.out, name), withCosignatures(c.note, cosigs.all(c.size) as string[]));
      files.push(name);
      if (c.size > end) proofs.push({ from: end, to: c.size, proof: consistencyProof(tree, end, c.size).map(b64) });
    }
    const later = cps.filter((c) => c.size > end);
    for (let i = 1; i < later.length; i++) proofs.push({ from: later[i - 1]!.size, to: later[i]!.size, proof: consistencyProof(tree, later[i - 1]!.size, later[i]!.size).map(b64) });

    writeFileSync(join(o.out, 'keys', 'log.vkey'), `${o.keys.map((k) => k.text).join('\n')}\n`);
    if (o.witnessKeys.length) writeFileSync(join(o.out, 'keys', 'witnesses.vkey'), `${o.witnessKeys.map((k) => k.text).join('\n')}\n`);

    const { governance } = summary;
    const first = governance.findings[0];
    const manifest: BundleManifest = {
      format: 'countersign-audit-bundle/v1',
      origin: o.origin,
      createdAt: o.now.toISOString(),
      range: { start, end, ...(o.since ? { since: o.since } : {}), ...(o.until ? { until: o.until } : {}) },
      edge: edgeNodes(start).map((n) => b64(tree.node(n.level, n.index))),
      checkpoints: files,
      proofs,
      files: {
        entries: 'entries.jsonl',
        context: 'context.jsonl',
        keys: 'keys/log.vkey',
        ...(o.witnessKeys.length ? { witnessKeys: 'keys/witnesses.vkey' } : {}),
        summaryJson: SUMMARY_FILES.json,
        summaryMarkdown: SUMMARY_FILES.markdown,
      },
    };
    const covering = cps.find((c) => c.size >= end)!;
    const { files: written, summary: built } = summary.files({ origin: o.origin, root: b64(rootAt(tree, end)), checkpoint: { size: covering.size, root: b64(covering.root) } });
    writeFileSync(join(o.out, SUMMARY_FILES.json), written.json);
    writeFileSync(join(o.out, SUMMARY_FILES.markdown), written.markdown);
    writeFileSync(join(o.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    writeFileSync(join(o.out, 'README.md'), bundleReadme({ manifest, keys: o.keys, version: o.version, contextEntries: ctxSeqs.length, unsigned: size - end }));
    return { manifest, summary: built, governance: { violations: governance.violations, ...(first ? { first } : {}) }, unsigned: size - latest.size };
  } finally {
    db.close();
  }
}
