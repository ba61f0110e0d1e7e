import type { Finding } from '../../domain/audit-finding.js';
import type { SummaryFiles } from '../../domain/audit-summary-files.js';
import { BundleSummary, firstDifference, SUMMARY_FILES } from '../../domain/audit-summary-files.js';
import { readCheckpoint } from '../../domain/checkpoint.js';
import { chunksOf } from './entry-source.js';
import type { VerifyPlan } from './verifier.js';

/** A bundle's summary files as read (null: the file is not in the bundle). */
export type BundleSummaryFiles = { [K in keyof SummaryFiles]: string | null };

/**
 * Rebuilds a bundle's summary.json and summary.md from its entries, as export wrote
 * them, and compares bytes: auditors are told to start with summary.md, so a summary
 * that says other than the verified entries is tampering, as is a missing one (the
 * manifest lists both). `root` is the root the range's entries hash to; without it
 * (entries missing or extra) the entries are already reported and nothing is compared.
 * An entry that is not JSON is reported by the other checks; the summary is then not
 * rebuilt either.
 */
export function checkBundleSummary(plan: VerifyPlan, found: BundleSummaryFiles, root: string | undefined): Finding[] {
  const findings: Finding[] = [];
  const bad = (check: string, message: string, extra: { expected?: string; found?: string } = {}) => findings.push({ kind: 'tampering', check, message, ...extra });
  for (const k of ['markdown', 'json'] as const) {
    if (found[k] === null) bad('bundle-summary-missing', `${SUMMARY_FILES[k]} is not in the bundle: the manifest lists it (export always writes it), it was removed`);
  }
  const covering = coveringCheckpoint(plan);
  if (!root || !covering) return findings;
  const summary = new BundleSummary(plan.start, plan.end);
  try {
    for (const c of [...plan.context].sort((a, b) => a.seq - b.seq)) summary.add(c.seq, c.bytes.toString('utf8'), false);
    for (const chunk of chunksOf(plan.spec, plan.start, plan.end)) {
      const parts = chunk.blob.toString('utf8').split('\0');
      for (let i = 1; i < parts.length; i++) summary.add(chunk.seqs ? chunk.seqs[i - 1]! : chunk.first + i - 1, parts[i]!, true);
    }
  } catch {
    return findings;
  }
  const { files } = summary.files({ origin: covering.origin, root, checkpoint: { size: covering.size, root: covering.root } });
  for (const k of ['markdown', 'json'] as const) {
    const text = found[k];
    const diff = text === null ? undefined : firstDifference(files[k], text);
    if (diff) bad('bundle-summary', `${SUMMARY_FILES[k]} does not match the entries: line ${diff.line} reads ${JSON.stringify(diff.found)}, the entries give ${JSON.stringify(diff.expected)}`, { expected: diff.expected, found: diff.found });
  }
  return findings;
}

/**
 * The checkpoint export names in the summaries: the smallest one covering the range's
 * end. Its origin is the log's (export writes the log's origin, which names the
 * checkpoints; the manifest's copy of it is not evidence).
 */
function coveringCheckpoint(plan: VerifyPlan): { origin: string; size: number; root: string } | undefined {
  let best: { origin: string; size: number; root: string } | undefined;
  for (const c of plan.checkpoints) {
    try {
      const cp = readCheckpoint(c.note);
      if (cp.size >= plan.end && (!best || cp.size < best.size)) best = { origin: cp.origin, size: cp.size, root: Buffer.from(cp.root).toString('base64') };
    } catch {
      // An unreadable checkpoint is reported by the signature check.
    }
  }
  return best;
}
