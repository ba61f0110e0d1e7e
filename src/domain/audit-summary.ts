import type { ParsedEntry } from './audit-governance.js';

/**
 * What an auditor asks first, computed from the entries: decisions by outcome and by
 * rule, who approved what, the policy versions in force, the actions that needed
 * review and how long approval took. Entries before the range (context) only set the
 * scene; the counts cover the range.
 */
export interface AuditSummary {
  range: { start: number; end: number; from?: string; to?: string };
  entries: number;
  actions: { submitted: number; byKind: Record<string, number>; byRequester: Record<string, number> };
  decisions: { byOutcome: Record<string, number>; byRule: Record<string, Record<string, number>> };
  outcomes: Record<string, number>;
  executions: { started: number; succeeded: number; failed: number };
  reviews: {
    actionsNeedingReview: number;
    approved: number;
    denied: number;
    expired: number;
    cancelled: number;
    stillPending: number;
    medianTimeToApprovalMs: number | null;
    approvers: Array<{ reviewer: string; approvals: number; denials: number }>;
    actions: Array<{ actionId: string; rules: string[]; outcome: string; approvers: string[]; decidedAt: string; settledAt?: string }>;
  };
  policies: Array<{ version: string; loadedAt: string; trigger: string; seq: number; decisions: number }>;
  rejectedPolicies: number;
}

interface Pending {
  rules: string[];
  decidedAt: string;
  approvers: string[];
  outcome: string;
  settledAt?: string;
  inRange: boolean;
}

const bump = (m: Record<string, number>, k: string, n = 1) => (m[k] = (m[k] ?? 0) + n);

export class SummaryBuilder {
  private readonly s: AuditSummary;
  private readonly review = new Map<string, Pending>();
  private readonly approvers = new Map<string, { approvals: number; denials: number }>();
  private readonly policies = new Map<string, AuditSummary['policies'][number]>();
  private readonly approvalTimes: number[] = [];

  constructor(start: number, end: number) {
    this.s = {
      range: { start, end },
      entries: 0,
      actions: { submitted: 0, byKind: {}, byRequester: {} },
      decisions: { byOutcome: {}, byRule: {} },
      outcomes: {},
      executions: { started: 0, succeeded: 0, failed: 0 },
      reviews: { actionsNeedingReview: 0, approved: 0, denied: 0, expired: 0, cancelled: 0, stillPending: 0, medianTimeToApprovalMs: null, approvers: [], actions: [] },
      policies: [],
      rejectedPolicies: 0,
    };
  }

  /** Entries in sequence order; `inRange` false for context entries before the range. */
  add(e: ParsedEntry, inRange: boolean): void {
    const d = e.data;
    const loaded = e.type === 'policy.loaded';
    if (loaded && typeof d.version === 'string' && !this.policies.has(d.version)) {
      this.policies.set(d.version, { version: d.version, loadedAt: e.ts, trigger: typeof d.trigger === 'string' ? d.trigger : '', seq: e.seq, decisions: 0 });
    }
    if (loaded && !inRange) return;
    if (!inRange) {
      if (e.type === 'action.decided' && d.outcome === 'review' && e.actionId) this.review.set(e.actionId, { rules: (d.rules as string[]) ?? [], decidedAt: e.ts, approvers: [], outcome: 'pending', inRange: false });
      this.follow(e);
      return;
    }
    this.s.entries++;
    this.s.range.from ??= e.ts;
    this.s.range.to = e.ts;
    if (loaded) return;
    switch (e.type) {
      case 'policy.rejected':
        this.s.rejectedPolicies++;
        return;
      case 'action.submitted':
        this.s.actions.submitted++;
        bump(this.s.actions.byKind, String(d.kind));
        bump(this.s.actions.byRequester, String((d.requester as { id?: string } | undefined)?.id));
        return;
      case 'action.decided': {
        const outcome = String(d.outcome);
        bump(this.s.decisions.byOutcome, outcome);
        const rules = Array.isArray(d.rules) && d.rules.length ? (d.rules as string[]) : ['(default)'];
        for (const r of rules) bump((this.s.decisions.byRule[r] ??= {}), outcome);
        const p = typeof d.policyVersion === 'string' ? this.policies.get(d.policyVersion) : undefined;
        if (p) p.decisions++;
        if (outcome === 'allow') bump(this.s.outcomes, 'allowed');
        if (outcome === 'deny') bump(this.s.outcomes, 'denied by policy');
        if (outcome === 'review' && e.actionId) {
          this.s.reviews.actionsNeedingReview++;
          this.review.set(e.actionId, { rules: (d.rules as string[]) ?? [], decidedAt: e.ts, approvers: [], outcome: 'pending', inRange: true });
        }
        return;
      }
      case 'execution.started':
        this.s.executions.started++;
        return;
      case 'execution.finished':
        if (d.ok === true) this.s.executions.succeeded++;
        else this.s.executions.failed++;
        return;
      case 'action.reviewed':
        if (typeof d.reviewer === 'string') {
          const a = this.approvers.get(d.reviewer.toLowerCase()) ?? { approvals: 0, denials: 0 };
          if (d.verdict === 'approve') a.approvals++;
          else a.denials++;
          this.approvers.set(d.reviewer.toLowerCase(), a);
        }
        this.follow(e);
        return;
      case 'action.expired':
      case 'action.cancelled':
      case 'action.escalated':
        this.follow(e);
        return;
    }
  }

  /** Tracks an action that needed review to its end. */
  private follow(e: ParsedEntry): void {
    const p = e.actionId ? this.review.get(e.actionId) : undefined;
    if (!p || p.settledAt) return;
    if (e.type === 'action.reviewed') {
      if (e.data.verdict === 'approve' && typeof e.data.reviewer === 'string') p.approvers.push(e.data.reviewer);
      if (e.data.outcome === 'approved' || e.data.outcome === 'denied') {
        p.outcome = e.data.outcome;
        p.settledAt = e.ts;
        if (e.data.outcome === 'approved') this.approvalTimes.push(Date.parse(e.ts) - Date.parse(p.decidedAt));
      }
    } else if (e.type === 'action.expired' || e.type === 'action.cancelled') {
      p.outcome = e.type === 'action.expired' ? 'expired' : 'cancelled';
      p.settledAt = e.ts;
    }
  }

  build(): AuditSummary {
    const r = this.s.reviews;
    for (const [actionId, p] of this.review) {
      if (!p.inRange && !p.settledAt) continue;
      if (p.inRange) {
        if (p.outcome === 'approved') r.approved++;
        else if (p.outcome === 'denied') r.denied++;
        else if (p.outcome === 'expired') r.expired++;
        else if (p.outcome === 'cancelled') r.cancelled++;
        else r.stillPending++;
      }
      r.actions.push({ actionId, rules: p.rules, outcome: p.outcome, approvers: p.approvers, decidedAt: p.decidedAt, ...(p.settledAt ? { settledAt: p.settledAt } : {}) });
    }
    if (r.approved) bump(this.s.outcomes, 'approved after review', r.approved);
    if (r.denied) bump(this.s.outcomes, 'denied in review', r.denied);
    if (r.expired) bump(this.s.outcomes, 'expired in review', r.expired);
    if (r.cancelled) bump(this.s.outcomes, 'cancelled in review', r.cancelled);
    const t = [...this.approvalTimes].sort((a, b) => a - b);
    r.medianTimeToApprovalMs = t.length ? (t.length % 2 ? t[(t.length - 1) / 2]! : (t[t.length / 2 - 1]! + t[t.length / 2]!) / 2) : null;
    r.approvers = [...this.approvers].map(([reviewer, c]) => ({ reviewer, ...c })).sort((a, b) => b.approvals - a.approvals || a.reviewer.localeCompare(b.reviewer));
    this.s.policies = [...this.policies.values()].sort((a, b) => a.seq - b.seq);
    return this.s;
  }
}

function duration(ms: number | null): string {
  if (ms === null) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The summary for humans. */
export function summaryMarkdown(s: AuditSummary, extra: { origin: string; checkpoint?: { size: number; root: string }; governance: { violations: number; first?: string } }): string {
  const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
  const outcomes = ['allow', 'review', 'deny'];
  const rules = Object.entries(s.decisions.byRule).sort((a, b) => a[0].localeCompare(b[0]));
  const r = s.reviews;
  return `# Audit summary: ${extra.origin}

Entries ${s.range.start} to ${s.range.end - 1} (${s.entries} entries), ${s.range.from ?? '-'} to ${s.range.to ?? '-'}.
${extra.checkpoint ? `Covered by the signed checkpoint of ${extra.checkpoint.size} entries (root \`${extra.checkpoint.root}\`).` : ''}

Governance checks over these entries: ${extra.governance.violations === 0 ? '**no violation found**' : `**${extra.governance.violations} violation(s)**, the first: ${extra.governance.first ?? ''}`}.

## Decisions

${table(['outcome', 'decisions'], outcomes.map((o) => [o, String(s.decisions.byOutcome[o] ?? 0)]))}

By rule:

${rules.length ? table(['rule', ...outcomes], rules.map(([rule, c]) => [rule, ...outcomes.map((o) => String(c[o] ?? 0))])) : '_no decisions_'}

## Outcomes

${table(['outcome', 'actions'], Object.entries(s.outcomes).map(([k, v]) => [k, String(v)]))}

Executions by the gateway: ${s.executions.started} started, ${s.executions.succeeded} succeeded, ${s.executions.failed} failed.

## Reviews

${r.actionsNeedingReview} actions needed review: ${r.approved} approved, ${r.denied} denied, ${r.expired} expired, ${r.cancelled} cancelled, ${r.stillPending} still pending at the end of the range.
Median time from decision to approval: **${duration(r.medianTimeToApprovalMs)}**.

${r.approvers.length ? table(['reviewer', 'approvals', 'denials'], r.approvers.map((a) => [a.reviewer, String(a.approvals), String(a.denials)])) : '_no reviews_'}

${r.actions.length ? `Actions that needed review (up to 200):\n\n${table(['action', 'rules', 'outcome', 'approved by', 'decided', 'settled'], r.actions.slice(0, 200).map((a) => [a.actionId, a.rules.join(', '), a.outcome, a.approvers.join(', '), a.decidedAt, a.settledAt ?? '']))}` : ''}

## Policy versions in force

${s.policies.length ? table(['version', 'loaded at', 'trigger', 'entry', 'decisions in range'], s.policies.map((p) => [p.version, p.loadedAt, p.trigger, String(p.seq), String(p.decisions)])) : '_none_'}
${s.rejectedPolicies ? `\n${s.rejectedPolicies} policy load(s) were rejected (the previous policy stayed in force).\n` : ''}`;
}
