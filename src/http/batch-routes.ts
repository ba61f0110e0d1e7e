import type { FastifyInstance } from 'fastify';
import { isAppError } from '../domain/errors.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { ReviewService } from '../services/review-service.js';
import { actionSchema } from './schemas.js';
import { actionView } from './action-view.js';
import { authHook, principalOf } from './auth.js';

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' } };
export const MAX_BATCH = 100;

interface BatchBody {
  verdict: 'approve' | 'deny';
  comment?: string;
  items: Array<{ id: string; fingerprint?: string }>;
}

/**
 * Batch decisions: one request, each action reviewed on its own (its fingerprint, its
 * eligibility and separation-of-duties checks, its audit entry). One refusal does not
 * stop the others; each result says how its action went.
 */
export function registerBatchRoutes(app: FastifyInstance, deps: { authenticator: Authenticator; reviews: ReviewService; publicUrl: () => string }): void {
  app.addHook('onRequest', authHook(deps.authenticator));
  app.post<{ Body: BatchBody }>(
    '/v1/reviews',
    {
      schema: {
        summary: 'Approve or deny several actions at once, each bound to its own fingerprint',
        tags: ['reviews'],
        body: {
          type: 'object',
          required: ['verdict', 'items'],
          additionalProperties: false,
          properties: {
            verdict: { type: 'string', enum: ['approve', 'deny'] },
            comment: { type: 'string', minLength: 1, maxLength: 4000, pattern: '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$' },
            items: {
              type: 'array',
              minItems: 1,
              maxItems: MAX_BATCH,
              items: {
                type: 'object',
                required: ['id'],
                additionalProperties: false,
                properties: { id: { type: 'string', pattern: '^act_[A-Za-z0-9]{10,64}$' }, fingerprint: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' } },
              },
            },
          },
          if: { properties: { verdict: { const: 'deny' } } },
          then: { required: ['comment'] },
          else: { properties: { items: { items: { required: ['id', 'fingerprint'] } } } },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    ok: { type: 'boolean' },
                    action: actionSchema,
                    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const who = principalOf(req);
      const { verdict, comment, items } = req.body;
      const results = [];
      // One after the other: each is its own compare-and-swap and audit entry.
      for (const item of items) {
        try {
          const a = await deps.reviews.review(who, item.id, { verdict, fingerprint: item.fingerprint, comment, via: 'api-batch' });
          results.push({ id: item.id, ok: true, action: actionView(a, deps.publicUrl(), who) });
        } catch (e) {
          if (!isAppError(e)) throw e;
          results.push({ id: item.id, ok: false, error: { code: e.code, message: e.message } });
        }
      }
      return { results };
    },
  );
}
