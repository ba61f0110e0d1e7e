// Edits an exported evidence bundle the way someone who holds it could, for the tamper suite.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { leafHash } from '../../src/domain/audit-entry.js';
import { BundleSummary } from '../../src/domain/audit-summary-files.js';
import { readCheckpoint } from '../../src/domain/checkpoint.js';
import { RightEdge } from '../../src/domain/merkle.js';

export interface Manifest {
  origin: string;
  range: { start: number; end: number };
  edge: string[];
  checkpoints: string[];
  proofs: Array<{ from: number; to: number; proof: string[] }>;
}

export const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
export const writeManifest = (dir: string, m: Manifest) => writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(m, null, 2)}\n`);
export const checkpointFile = (size: number) => `checkpoints/${String(size).padStart(16, '0')}.checkpoint`;
export const sizeOfFile = (f: string) => Number(/([0-9]{16})\.checkpoint$/.exec(f)![1]);

/** The bundle's checkpoint sizes, from its manifest. */
export const bundleSizes = (dir: string) => readManifest(dir).checkpoints.map(sizeOfFile);

/** Removes the checkpoints whose size `drop` selects: their files, their manifest lines, the proofs to them. */
export function removeCheckpoints(dir: string, drop: (size: number) => boolean, what: { files?: boolean; lines?: boolean } = { files: true, lines: true }): number[] {
  const m = readManifest(dir);
  const gone = m.checkpoints.filter((f) => drop(sizeOfFile(f)));
  if (what.files) for (const f of gone) rmSync(join(dir, f));
  if (what.lines) {
    m.checkpoints = m.checkpoints.filter((f) => !gone.includes(f));
    m.proofs = m.proofs.filter((p) => !drop(p.to));
    writeManifest(dir, m);
  }
  return gone.map(sizeOfFile);
}

export const entryLines = (dir: string) => readFileSync(join(dir, 'entries.jsonl'), 'utf8').split('\n').filter(Boolean);
export const writeEntryLines = (dir: string, lines: readonly string[]) => writeFileSync(join(dir, 'entries.jsonl'), `${lines.join('\n')}\n`);

/** Rewrites the first entry at or after `from` that `pick` selects; returns its sequence number. */
export function editEntry(dir: string, from: number, pick: (line: string) => boolean, edit: (line: string) => string): number {
  const { start } = readManifest(dir).range;
  const lines = entryLines(dir);
  const k = lines.findIndex((l, i) => start + i >= from && pick(l));
  if (k < 0) throw new Error(`no entry to edit after ${from}`);
  const edited = edit(lines[k]!);
  if (edited === lines[k]) throw new Error('the edit changed nothing');
  lines[k] = edited;
  writeEntryLines(dir, lines);
  return start + k;
}

/** A reviewer's name changed in an action.reviewed entry (the attack). */
export const renameReviewer = (dir: string, from: number) =>
  editEntry(
    dir,
    from,
    (l) => l.includes('"type":"action.reviewed"') && l.includes('alice@example.com'),
    (l) => l.replaceAll('alice@example.com', 'mallory@example.com'),
  );

/**
 * Rewrites summary.json and summary.md to match the bundle's entries, as anyone holding
 * the bundle can (the summaries are computed from the entries, nothing signs them): what
 * an edit that otherwise verifies does to hide itself from the summary check.
 */
export function rewriteSummaries(dir: string): void {
  const m = readManifest(dir);
  const summary = new BundleSummary(m.range.start, m.range.end);
  const context = readFileSync(join(dir, 'context.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number; entry: string });
  for (const c of context) summary.add(c.seq, c.entry, false);
  const tree = new RightEdge(m.range.start, m.edge.map((h) => Buffer.from(h, 'base64')));
  entryLines(dir).forEach((line, i) => {
    summary.add(m.range.start + i, line, true);
    tree.append(leafHash(Buffer.from(line, 'utf8')));
  });
  const covering = m.checkpoints.map((f) => readCheckpoint(readFileSync(join(dir, f), 'utf8'))).find((c) => c.size >= m.range.end)!;
  const { files } = summary.files({ origin: m.origin, root: tree.root().toString('base64'), checkpoint: { size: covering.size, root: Buffer.from(covering.root).toString('base64') } });
  writeFileSync(join(dir, 'summary.json'), files.json);
  writeFileSync(join(dir, 'summary.md'), files.markdown);
}
