import type { FastifyInstance } from 'fastify';
import type { Delivery } from '../ports/channel-store.js';
import { DELIVERY_STATUSES } from '../ports/channel-store.js';
import type { ChannelStore } from '../ports/channel-store.js';
import type { Authenticator } from '../ports/authenticator.js';
import { AppError } from '../domain/errors.js';
import { authHook, principalOf } from './auth.js';

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };

const deliverySchema = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    channel: { type: 'string', description: '`slack`, `teams` or `webhook:<name>`' },
    kind: { type: 'string', enum: ['sync', 'event'] },
    actionId: { type: 'string' },
    eventType: { type: 'string' },
    eventId: { type: 'string', description: 'The webhook-id header (events)' },
    status: { type: 'string', enum: DELIVERY_STATUSES },
    attempts: { type: 'integer' },
    nextAttemptAt: { type: 'string' },
    lastError: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    payload: { type: 'string', description: 'The event body (detail view only)' },
    history: {
      type: 'array',
      items: {
        type: 'object',
        properties: { attempt: { type: 'integer' }, ok: { type: 'boolean' }, detail: { type: 'string' }, durationMs: { type: 'integer' }, at: { type: 'string' } },
      },
    },
  },
} as const;

function view(d: Delivery): Record<string, unknown> {
  const { eventKey, payload: _payload, ...rest } = d;
  return { ...rest, ...(eventKey ? { eventId: eventKey } : {}) };
}

/**
 * GET /v1/deliveries and /v1/deliveries/:id: what was sent to Slack, Teams and
 * webhooks, and how each attempt went. Auditors only (audit.readerGroups).
 */
export function deliveriesRoutes(deps: { channels: ChannelStore; authenticator: Authenticator; auditorGroups: readonly string[] }) {
  return (app: FastifyInstance): void => {
    app.addHook('onRequest', authHook(deps.authenticator));
    const auditorOnly = (who: ReturnType<typeof principalOf>) => {
      if (who.type !== 'human' || !who.groups.some((g) => deps.auditorGroups.includes(g))) throw new AppError('FORBIDDEN', 'Deliveries are visible to auditors only');
    };
    app.get<{ Querystring: { actionId?: string; channel?: string; status?: Delivery['status']; limit: number; before?: number } }>(
      '/v1/deliveries',
      {
        schema: {
          summary: 'List deliveries to chat channels and webhooks, newest first (auditors)',
          tags: ['deliveries'],
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              actionId: { type: 'string', pattern: '^act_[A-Za-z0-9]{10,64}$' },
              channel: { type: 'string', maxLength: 100 },
              status: { type: 'string', enum: DELIVERY_STATUSES },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
              before: { type: 'integer', minimum: 1, description: 'Only deliveries with a smaller id (paging)' },
            },
          },
          response: { 200: { type: 'object', properties: { deliveries: { type: 'array', items: deliverySchema } } }, ...errors },
        },
      },
      async (req) => {
        auditorOnly(principalOf(req));
        const q = req.query;
        const rows = await deps.channels.listDeliveries({
          limit: q.limit,
          ...(q.actionId ? { actionId: q.actionId } : {}),
          ...(q.channel ? { channel: q.channel } : {}),
          ...(q.status ? { status: q.status } : {}),
          ...(q.before !== undefined ? { beforeId: q.before } : {}),
        });
        return { deliveries: rows.map(view) };
      },
    );
    app.get<{ Params: { id: number } }>(
      '/v1/deliveries/:id',
      {
        schema: {
          summary: 'One delivery with every attempt (auditors)',
          tags: ['deliveries'],
          params: { type: 'object', required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
          response: { 200: deliverySchema, ...errors },
        },
      },
      async (req) => {
        auditorOnly(principalOf(req));
        const [d] = (await deps.channels.listDeliveries({ limit: 1, beforeId: req.params.id + 1 })).filter((x) => x.id === req.params.id);
        if (!d) throw new AppError('NOT_FOUND', `No delivery ${req.params.id}`);
        return { ...view(d), ...(d.payload ? { payload: d.payload } : {}), history: await deps.channels.attempts(d.id) };
      },
    );
  };
}
