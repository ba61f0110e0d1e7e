import type { ActionRecord } from './action-record.js';
import type { Decision, Outcome } from './policy-types.js';

/** One action whose outcome a new policy changes. */
export interface ReplayExample {
  id: string;
  createdAt: string;
  kind: string;
  target: string;
  requester: string;
  was: { outcome: Outcome; rules: string[] };
  now: { outcome: Outcome; rules: string[]; reason: string };
}

export interface ReplayGroup {
  /** The rules responsible: the new decision's when it is stricter, the recorded one's when it is looser. */
  rules: string[];
  from: Outcome;
  to: Outcome;
  count: number;
  examples: ReplayExample[];
}

export interface ReplayReport {
  total: number;
  changed: number;
  /** `allow→review` and the like, with their counts. */
  transitions: Record<string, number>;
  groups: ReplayGroup[];
  /** Shadow rules of the new policy that fired, and how often enforcing them would change the outcome. */
  shadow: Record<string, { fired: number; disagreements: number }>;
}

const RANK: Record<Outcome, number> = { allow: 0, review: 1, deny: 2 };

/** What the policy decided when the action was recorded (before a standing grant, if one applied). */
export function recordedOutcome(a: ActionRecord): Outcome {
  return a.decision.grant?.policyOutcome ?? a.decision.outcome;
}

/** Collects changed outcomes, grouped by rule and transition, with a few examples each. */
export class ReplayCollector {
  private total = 0;
  private changed = 0;
  private readonly transitions = new Map<string, number>();
  private readonly groups = new Map<string, ReplayGroup>();
  private readonly shadow = new Map<string, { fired: number; disagreements: number }>();
  constructor(private readonly examplesPerGroup = 3) {}

  add(a: ActionRecord, d: Decision): boolean {
    this.total++;
    for (const r of d.shadow?.rules ?? []) {
      const s = this.shadow.get(r) ?? { fired: 0, disagreements: 0 };
      s.fired++;
      if (d.shadow!.disagrees) s.disagreements++;
      this.shadow.set(r, s);
    }
    const from = recordedOutcome(a);
    if (from === d.outcome) return false;
    this.changed++;
    const t = `${from}→${d.outcome}`;
    this.transitions.set(t, (this.transitions.get(t) ?? 0) + 1);
    const rules = RANK[d.outcome] > RANK[from] ? d.rules : a.decision.rules;
    const key = `${t}\u0000${rules.join(',')}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { rules: [...rules], from, to: d.outcome, count: 0, examples: [] }));
    g.count++;
    if (g.examples.length < this.examplesPerGroup) {
      g.examples.push({
        id: a.id,
        createdAt: a.createdAt,
        kind: a.kind,
        target: a.target,
        requester: a.requester.id,
        was: { outcome: from, rules: a.decision.rules },
        now: { outcome: d.outcome, rules: d.rules, reason: d.reason },
      });
    }
    return true;
  }

  report(): ReplayReport {
    return {
      total: this.total,
      changed: this.changed,
      transitions: Object.fromEntries(this.transitions),
      groups: [...this.groups.values()].sort((x, y) => y.count - x.count || x.rules.join().localeCompare(y.rules.join())),
      shadow: Object.fromEntries(this.shadow),
    };
  }
}
