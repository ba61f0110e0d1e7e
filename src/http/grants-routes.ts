import type { FastifyInstance } from 'fastify';
import { parseDuration } from '../domain/duration.js';
import type { GrantAsk } from '../domain/grant.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { GrantService, GrantView } from '../services/grant-service.js';
import { authHook, principalOf } from './auth.js';

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' }, 409: { $ref: 'Error#' } };

/** `{ttl: "1h", uses: 20, path?: "/v1/customers/*\/export"}` as the review service takes it. */
export function grantAskOf(g: { ttl: string; uses: number; path?: string } | undefined): GrantAsk | undefined {
  if (g === undefined) return undefined;
  return { ttlMs: parseDuration(g.ttl), uses: g.uses, ...(g.path !== undefined ? { path: g.path } : {}) };
}

export const grantSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['active', 'expired', 'used-up', 'revoked', 'ended'], description: 'ended: the policy changed one of its rules' },
    actionId: { type: 'string', description: 'The approved action that created it' },
    ruleIds: { type: 'array', items: { type: 'string' } },
    policyVersion: { type: 'string' },
    kind: { type: 'string' },
    agent: { type: 'string' },
    target: { type: 'string' },
    scope: { type: 'object', additionalProperties: true },
    text: { type: 'string', description: 'The scope in plain words' },
    grantedBy: { type: 'array', items: { type: 'string' } },
    createdAt: { type: 'string' },
    expiresAt: { type: 'string' },
    maxUses: { type: 'integer' },
    uses: { type: 'integer' },
    revokedAt: { type: 'string' },
    revokedBy: { type: 'string' },
    revokeReason: { type: 'string' },
    endedAt: { type: 'string', description: 'When it ended (its grant.ended entry)' },
    endReason: { type: 'string', enum: ['used-up', 'expired', 'revoked', 'policy-changed'] },
  },
} as const;

const grantIdParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^grt_[A-Za-z0-9_-]{8,64}$' } } } as const;

/** Standing grants: list, show, revoke (humans). */
export function registerGrantRoutes(app: FastifyInstance, deps: { authenticator: Authenticator; grants: GrantService }): void {
  app.addHook('onRequest', authHook(deps.authenticator));
  const out = (g: GrantView) => g;

  app.get<{ Querystring: { active?: boolean; limit: number } }>(
    '/v1/grants',
    {
      schema: {
        summary: 'List standing grants, newest first (humans)',
        tags: ['grants'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { active: { type: 'boolean', description: 'Only grants that can still be used' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
        },
        response: { 200: { type: 'object', properties: { grants: { type: 'array', items: grantSchema } } }, ...errors },
      },
    },
    async (req) => ({ grants: (await deps.grants.list(principalOf(req), { limit: req.query.limit, active: req.query.active === true })).map(out) }),
  );

  app.get<{ Params: { id: string } }>(
    '/v1/grants/:id',
    { schema: { summary: 'Show a standing grant (humans)', tags: ['grants'], params: grantIdParams, response: { 200: grantSchema, ...errors } } },
    async (req) => out(await deps.grants.get(principalOf(req), req.params.id)),
  );

  app.post<{ Params: { id: string }; Body: { reason?: string } | undefined }>(
    '/v1/grants/:id/revoke',
    {
      schema: {
        summary: 'Revoke a standing grant: takes effect before the next decision (its grantors and the approvers of its rules)',
        tags: ['grants'],
        params: grantIdParams,
        body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 4000 } } },
        response: { 200: grantSchema, ...errors },
      },
    },
    async (req) => out(await deps.grants.revoke(principalOf(req), req.params.id, req.body?.reason)),
  );
}
