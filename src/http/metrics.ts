import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import type { ActionEvents } from '../services/action-events.js';
import { registerReviewMetrics } from './review-metrics.js';
import type { OpsSources } from './ops-metrics.js';
import { registerOpsMetrics } from './ops-metrics.js';

/** Prometheus metrics, fed by committed action events (never by the request path itself). */
export function createMetrics(events: ActionEvents, ops?: OpsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'countersign_' });
  if (ops) registerOpsMetrics(registry, ops);
  const decisions = new Counter({ name: 'countersign_decisions_total', help: 'Policy decisions by outcome', labelNames: ['outcome'], registers: [registry] });
  const reviews = new Counter({ name: 'countersign_reviews_total', help: 'Reviews by verdict and channel', labelNames: ['verdict', 'via'], registers: [registry] });
  const transitions = new Counter({ name: 'countersign_action_transitions_total', help: 'Actions entering each status', labelNames: ['status'], registers: [registry] });
  const escalations = new Counter({ name: 'countersign_escalations_total', help: 'Escalations', registers: [registry] });
  registerReviewMetrics(registry, events);
  events.subscribe((e) => {
    switch (e.type) {
      case 'created':
        decisions.inc({ outcome: e.action.decision.outcome });
        transitions.inc({ status: e.action.status });
        break;
      case 'reviewed':
        reviews.inc({ verdict: e.review.verdict, via: e.review.via });
        if (e.action.status !== 'pending') transitions.inc({ status: e.action.status });
        break;
      case 'escalated':
        escalations.inc();
        break;
      case 'changed':
        transitions.inc({ status: e.action.status });
        break;
    }
  });
  return registry;
}
