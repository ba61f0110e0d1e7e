import type { ParsedEntry } from './audit-governance.js';
import { GovernanceChecker } from './audit-governance.js';
import type { AuditSummary } from './audit-summary.js';
import { SummaryBuilder, summaryMarkdown } from './audit-summary.js';

/** The bundle's two summary files, by name (export writes exactly these). */
export const SUMMARY_FILES = { json: 'summary.json', markdown: 'summary.md' } as const;

export interface SummaryFiles {
  json: string;
  markdown: string;
}

/** What the summaries state beyond the entries: the log, the root of the range's end, the checkpoint covering it. */
export interface SummaryFrame {
  origin: string;
  /** Root of the tree at the range's end (base64). */
  root: string;
  /** The first signed checkpoint at or after the range's end. */
  checkpoint: { size: number; root: string };
}

/**
 * Builds a bundle's summary.json and summary.md from its entries: the context entries,
 * then the range, in sequence order. `audit export` writes what this produces and
 * `audit verify --bundle` rebuilds it from the verified entries and compares bytes, so
 * both must go through this one class: any difference would read as tampering.
 */
export class BundleSummary {
  readonly governance = new GovernanceChecker(100);
  private readonly summary: SummaryBuilder;

  constructor(start: number, end: number) {
    this.summary = new SummaryBuilder(start, end);
  }

  /** One entry's canonical bytes (throws if they are not JSON). */
  add(seq: number, bytes: string, inRange: boolean): void {
    const e = JSON.parse(bytes) as ParsedEntry;
    e.seq = seq;
    this.governance.add(e);
    this.summary.add(e, inRange);
  }

  files(frame: SummaryFrame): { files: SummaryFiles; summary: AuditSummary } {
    const built = this.summary.build();
    const first = this.governance.findings[0];
    const gov = { violations: this.governance.violations, ...(first ? { first: `entry ${first.seq}: ${first.message}` } : {}) };
    return {
      summary: built,
      files: {
        json: `${JSON.stringify({ origin: frame.origin, root: frame.root, checkpoint: frame.checkpoint, governance: gov, ...built }, null, 2)}\n`,
        markdown: summaryMarkdown(built, { origin: frame.origin, checkpoint: frame.checkpoint, governance: gov }),
      },
    };
  }
}

/** The first line (1-based) where two texts differ, with both versions; undefined when equal. */
export function firstDifference(expected: string, found: string): { line: number; expected: string; found: string } | undefined {
  if (expected === found) return undefined;
  const a = expected.split('\n');
  const b = found.split('\n');
  for (let i = 0; ; i++) {
    if (a[i] !== b[i]) return { line: i + 1, expected: a[i] ?? '(end of file)', found: b[i] ?? '(end of file)' };
  }
}
