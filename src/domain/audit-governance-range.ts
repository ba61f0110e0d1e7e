import type { Finding } from './audit-finding.js';
import type { GovernanceStats, ParsedEntry } from './audit-governance.js';
import { GovernanceChecker } from './audit-governance.js';

/**
 * Governance of the later part of a log checked apart (the verifier's second thread),
 * without the state the earlier entries leave. Actions are independent of each other:
 * what one action's entries must satisfy depends on that action's earlier entries and
 * on the policy versions loaded before, nothing else. So this checker checks every
 * action that begins (is submitted) inside the range, sets aside the entries of the
 * others (actions begun before it: their entries are checked later against the state
 * of the earlier part), and defers a decision's policy version when it was not loaded
 * inside the range before it. absorbRange then gives exactly the findings one pass in
 * order gives; when an action begun inside the range was also seen before it (a
 * submission written twice), it declines, and the caller checks the log in one pass.
 */

/** What a range checked apart leaves to join (structured-cloneable). */
export interface GovernanceRangePart {
  stats: GovernanceStats;
  violations: number;
  findings: Finding[];
  /** Entries of actions begun before the range, in order. */
  carried: ParsedEntry[];
  /** Policy versions loaded inside the range, in order. */
  loads: Array<{ seq: number; ts: string; version: string }>;
  /** Decisions naming a version not loaded inside the range before them: by version, how many, and the first ones. */
  unresolved: Array<[version: string, { count: number; first: Array<{ seq: number; actionId?: string; loadsBefore: number }> }]>;
  /** The actions begun inside the range. */
  ids: string[];
  /** More entries were set aside than kept (a log whose later half is mostly about earlier actions): check in one pass. */
  overflow: boolean;
}

export class GovernanceRangeChecker extends GovernanceChecker {
  private readonly carried: ParsedEntry[] = [];
  private readonly carriedIds = new Set<string>();
  private readonly loads: GovernanceRangePart['loads'] = [];
  private readonly unresolved = new Map<string, GovernanceRangePart['unresolved'][number][1]>();
  private overflow = false;

  /** `keep`: findings kept; `maxCarried`: entries set aside at most (bounds memory; beyond it the log is checked in one pass). */
  constructor(
    private readonly keep = 1000,
    private readonly maxCarried = 200_000,
  ) {
    super(keep);
  }

  protected override setAside(e: ParsedEntry): boolean {
    const id = e.actionId!;
    if (e.type === 'action.submitted' && !this.carriedIds.has(id)) return false;
    this.carriedIds.add(id);
    if (this.carried.length < this.maxCarried) this.carried.push(e);
    else this.overflow = true;
    return true;
  }

  protected override loadPolicy(e: ParsedEntry, version: string): void {
    super.loadPolicy(e, version);
    this.loads.push({ seq: e.seq, ts: e.ts, version });
  }

  protected override unknownPolicy(e: ParsedEntry, version: string): void {
    let u = this.unresolved.get(version);
    if (!u) this.unresolved.set(version, (u = { count: 0, first: [] }));
    u.count++;
    if (u.first.length < this.keep) u.first.push({ seq: e.seq, ...(e.actionId ? { actionId: e.actionId } : {}), loadsBefore: this.loads.length });
  }

  part(): GovernanceRangePart {
    return {
      stats: { ...this.stats },
      violations: this.violations,
      findings: [...this.findings],
      carried: this.carried,
      loads: this.loads,
      unresolved: [...this.unresolved],
      // Every later entry of an action set aside is set aside too (carriedIds): the actions known here are the ones begun here.
      ids: [...this.actionIds()],
      overflow: this.overflow,
    };
  }
}

/**
 * Joins a later range's part to the checker of the entries before it, as if it had
 * read them in order: the deferred policy versions checked against the versions loaded
 * before the range, the set-aside entries replayed (with the range's policy loads, in
 * order), the counts and findings added (the first `limit` by sequence number kept).
 * False, and `into` left as it was, when an action begun in the range was seen before it, or
 * when the range set aside more entries than it keeps.
 */
export function absorbRange(into: GovernanceChecker, part: GovernanceRangePart, limit = 1000): boolean {
  if (part.overflow || part.ids.some((id) => into.knows(id))) return false;
  const before = [...into.policyVersions()];
  const deferred: Finding[] = [];
  for (const [version, u] of part.unresolved) {
    if (into.policyVersions().has(version)) continue;
    into.violations += u.count;
    for (const x of u.first) {
      const loaded = [...new Set([...before, ...part.loads.slice(0, x.loadsBefore).map((l) => l.version)])];
      deferred.push({
        kind: 'governance',
        check: 'unknown-policy-version',
        seq: x.seq,
        ...(x.actionId ? { actionId: x.actionId } : {}),
        message: 'the decision names a policy version that was never loaded before it',
        found: version,
        expected: loaded.slice(-3).join(', ') || 'none loaded',
      });
    }
  }
  const replay: ParsedEntry[] = [...part.carried, ...part.loads.map((l) => ({ seq: l.seq, ts: l.ts, type: 'policy.loaded', data: { version: l.version } }))];
  for (const e of replay.sort((a, b) => a.seq - b.seq)) into.add(e);
  into.stats.actions += part.stats.actions;
  into.stats.executions += part.stats.executions;
  into.stats.reviews += part.stats.reviews;
  into.violations += part.violations;
  const all = [...into.findings, ...part.findings, ...deferred].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  into.findings.length = 0;
  into.findings.push(...all.slice(0, limit));
  return true;
}
