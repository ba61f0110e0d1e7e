import { Counter, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import type { ActionEvents } from '../services/action-events.js';

/** Approved this soon after the request was created (and so shown): a sign of rubber-stamping (docs/policy.md). */
export const FAST_APPROVAL_MS = 5_000;

/**
 * Metrics for tuning reviews (issue 17): time to decision per rule, reviews per
 * reviewer, grant uses, shadow rules and their disagreements with the enforced
 * decision, and fast approvals. Fed by committed action events, like metrics.ts.
 */
export function registerReviewMetrics(registry: Registry, events: ActionEvents): void {
  const timeToDecision = new Histogram({
    name: 'countersign_review_decision_seconds',
    help: 'From submission to the review decision (approved or denied), per review rule',
    labelNames: ['rule', 'outcome'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 14400, 86400],
    registers: [registry],
  });
  const perReviewer = new Counter({ name: 'countersign_reviews_by_reviewer_total', help: 'Reviews by reviewer and verdict', labelNames: ['reviewer', 'verdict'], registers: [registry] });
  const fast = new Counter({
    name: 'countersign_fast_approvals_total',
    help: `Approvals given within ${FAST_APPROVAL_MS / 1000}s of the request being created: a review-fatigue signal`,
    labelNames: ['reviewer', 'rule'],
    registers: [registry],
  });
  const grantUses = new Counter({ name: 'countersign_grant_uses_total', help: 'Actions allowed by a standing grant instead of a review, per rule', labelNames: ['rule'], registers: [registry] });
  const grantsCreated = new Counter({ name: 'countersign_grants_created_total', help: 'Standing grants created with approvals', registers: [registry] });
  const shadowFired = new Counter({ name: 'countersign_shadow_rule_fired_total', help: 'Shadow rules that fired (recorded, not enforced)', labelNames: ['rule'], registers: [registry] });
  const shadowDisagree = new Counter({
    name: 'countersign_shadow_disagreements_total',
    help: 'Decisions whose outcome would have differed with the shadow rules enforced, by shadow rule and would-be outcome',
    labelNames: ['rule', 'outcome'],
    registers: [registry],
  });
  events.subscribe((e) => {
    if (e.type === 'created') {
      const d = e.action.decision;
      if (d.grant) for (const rule of d.rules) grantUses.inc({ rule });
      if (d.shadow) {
        for (const rule of d.shadow.rules) {
          shadowFired.inc({ rule });
          if (d.shadow.disagrees) shadowDisagree.inc({ rule, outcome: d.shadow.outcome });
        }
      }
      return;
    }
    if (e.type !== 'reviewed') return;
    const a = e.action;
    perReviewer.inc({ reviewer: e.review.reviewer, verdict: e.review.verdict });
    const elapsedMs = Date.parse(e.review.at) - Date.parse(a.createdAt);
    const rules = a.review?.requirements.map((r) => r.ruleId) ?? [];
    if (e.review.verdict === 'approve' && elapsedMs < FAST_APPROVAL_MS) for (const rule of rules) fast.inc({ reviewer: e.review.reviewer, rule });
    if (a.status === 'approved' || a.status === 'denied') {
      for (const rule of rules) timeToDecision.observe({ rule, outcome: a.status }, Math.max(0, elapsedMs) / 1000);
      if (a.grant) grantsCreated.inc();
    }
  });
}
