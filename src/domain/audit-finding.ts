/**
 * What `audit verify` reports. Tampering: the log is not what was written (bytes,
 * order, hashes, signatures, checkpoints, witnesses disagree). Governance: the log
 * is intact, and it shows something the gate must never allow.
 */
export const FINDING_KINDS = ['tampering', 'governance', 'warning'] as const;
export type FindingKind = (typeof FINDING_KINDS)[number];

export interface Finding {
  kind: FindingKind;
  /** Stable identifier of the check that failed, e.g. `leaf-hash`, `execution-without-approval`. */
  check: string;
  /** The entry concerned, when there is one (the first of `range`, when the check can only name a block). */
  seq?: number;
  /** The entries among which one is bad, when the check cannot say which (a tree node). */
  range?: { from: number; to: number };
  /** The action concerned, when there is one. */
  actionId?: string;
  /** The checkpoint concerned (its tree size), when there is one. */
  checkpoint?: number;
  message: string;
  expected?: string;
  found?: string;
}

/** Keeps every finding up to a limit (counting the rest), and the first of each kind in log order. */
export class Findings {
  readonly list: Finding[] = [];
  readonly counts: Record<FindingKind, number> = { tampering: 0, governance: 0, warning: 0 };

  constructor(private readonly limit = 1000) {}

  add(f: Finding): void {
    this.counts[f.kind]++;
    if (this.list.length < this.limit) this.list.push(f);
  }

  merge(other: readonly Finding[]): void {
    for (const f of other) this.add(f);
  }

  /**
   * The first finding of a kind, in the order of compareFindings; findings that only
   * follow from others (`consequences`: entries left unproven because a checkpoint
   * failed) come after every finding that can be their cause.
   */
  first(kind: FindingKind, consequences: readonly string[] = []): Finding | undefined {
    const of = this.list.filter((f) => f.kind === kind).sort(compareFindings);
    return of.find((f) => !consequences.includes(f.check)) ?? of[0];
  }
}

/**
 * The most precise first: findings that name one entry, by sequence number; then those
 * that name a block of entries; then checkpoints, by size; then the rest.
 */
export function compareFindings(a: Finding, b: Finding): number {
  const rank = (f: Finding): [number, number] =>
    f.range ? [1, f.range.from] : f.seq !== undefined ? [0, f.seq] : f.checkpoint !== undefined ? [2, f.checkpoint] : [3, 0];
  const [ra, pa] = rank(a);
  const [rb, pb] = rank(b);
  return ra - rb || pa - pb;
}
