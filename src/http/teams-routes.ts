import type { FastifyInstance } from 'fastify';
import type { TeamsActivities } from '../adapters/channels/teams/teams-activities.js';
import { AppError } from '../domain/errors.js';

/**
 * POST /integrations/teams/messages: the bot's messaging endpoint. Outside /v1's bearer
 * auth: every request carries a Bot Framework JWT, verified in full before anything
 * else is done, whatever NODE_ENV says.
 */
export function teamsRoutes(deps: {
  /** The running config's Teams bot (a reload swaps it); undefined when not configured. */
  current(): TeamsActivities | undefined;
}) {
  return (app: FastifyInstance): void => {
    app.post(
      '/integrations/teams/messages',
      {
        schema: { summary: 'Microsoft Teams bot messaging endpoint (Bot Framework JWT)', tags: ['integrations'], security: [] },
        // Refused before the body is even read when no token is presented.
        onRequest: async (req) => {
          if (!deps.current()) throw new AppError('ROUTE_NOT_FOUND', 'Microsoft Teams is not configured on this gateway');
          if (typeof req.headers.authorization !== 'string' || !req.headers.authorization.startsWith('Bearer ')) {
            throw new AppError('TEAMS_UNAUTHENTICATED', 'Missing Authorization: Bearer <Bot Framework token>');
          }
        },
      },
      async (req, reply) => {
        const activities = deps.current();
        if (!activities) throw new AppError('ROUTE_NOT_FOUND', 'Microsoft Teams is not configured on this gateway');
        const r = await activities.handle(req.headers.authorization, req.body);
        return r.body ? reply.status(r.status).send(r.body) : reply.status(r.status).send();
      },
    );
  };
}
