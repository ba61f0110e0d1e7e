import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { GatewayStore } from './store-wiring.js';
import { registerBatchRoutes } from '../http/batch-routes.js';
import { registerGrantRoutes } from '../http/grants-routes.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import { createGrantService } from '../services/grant-service.js';
import type { GrantService } from '../services/grant-service.js';
import { createHistoryService } from '../services/history-service.js';
import type { PolicyService } from '../services/policy-service.js';
import type { GrantCreation } from '../services/review-grants.js';
import type { ReviewService } from '../services/review-service.js';
import type { ReviewTuning } from '../services/review-tuning.js';

/** Counters, first times, standing grants and batch reviews (issue 17): services and routes. Wiring only. */
export interface ReviewsWiring {
  /** For the submit service. */
  tuning: ReviewTuning;
  /** For the review service. */
  creation: GrantCreation;
  grants: GrantService;
  /** The /v1/grants and /v1/reviews routes. */
  plugin(authenticator: Authenticator, reviews: ReviewService, publicUrl: () => string): (app: FastifyInstance) => void;
}

export function createReviewsWiring(deps: { store: GatewayStore; policy: PolicyService; clock: Clock; auditorGroups: readonly string[] }): ReviewsWiring {
  const history = createHistoryService({ store: deps.store, clock: deps.clock });
  const grants = createGrantService({ store: deps.store, policy: deps.policy, clock: deps.clock, auditorGroups: deps.auditorGroups });
  return {
    tuning: { history, grants, decided: deps.store },
    creation: { store: deps.store, policy: deps.policy, grantId: () => `grt_${randomBytes(15).toString('base64url')}` },
    grants,
    plugin: (authenticator, reviews, publicUrl) => (app) => {
      void app.register(async (scope) => registerGrantRoutes(scope, { authenticator, grants }));
      void app.register(async (scope) => registerBatchRoutes(scope, { authenticator, reviews, publicUrl }));
    },
  };
}
