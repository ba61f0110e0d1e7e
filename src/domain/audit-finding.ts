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
  /** The entry concerned, when there is one. */
  seq?: number;
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

  /** The first finding of a kind: lowest sequence number, then checkpoint, then report order. */
  first(kind: FindingKind): Finding | undefined {
    const of = this.list.filter((f) => f.kind === kind);
    const pos = (f: Finding) => f.seq ?? (f.checkpoint !== undefined ? f.checkpoint - 0.5 : Number.MAX_SAFE_INTEGER);
    return of.sort((a, b) => pos(a) - pos(b))[0];
  }
}
