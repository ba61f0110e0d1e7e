import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../ports/authenticator.js';
import { MAX_BATCH, reviewBatch } from '../services/review-batch.js';
import type { ReviewService } from '../services/review-service.js';
import { actionSchema } from './schemas.js';
import { actionView } from './action-view.js';
import { authHook, principalOf } from './auth.js';

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' } };

interface BatchBody {
  verdict: 'approve' | 'deny';
  comment?: string;
  items: Array<{ id: string; fingerprint?: string }>;
}

/** Batch decisions (review-batch.ts): one request, each action reviewed on its own. */
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
      const results = await reviewBatch(deps.reviews, who, { verdict, comment, items, via: 'api-batch' });
      return { results: results.map((r) => (r.ok ? { id: r.id, ok: true, action: actionView(r.action, deps.publicUrl(), who) } : r)) };
    },
  );
}
