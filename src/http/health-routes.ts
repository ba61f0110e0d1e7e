import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { metrics: Registry; health(): Promise<{ ok: boolean; policyVersion?: string | undefined; database?: boolean | undefined }> },
): void {
  // Both say whether this replica can reach its database (`database`): without it, it
  // decides nothing (no decision without a durable write) and comes back by itself.
  const check = async (_req: unknown, reply: FastifyReply) => {
    const h = await deps.health();
    return reply
      .status(h.ok ? 200 : 503)
      .send({ status: h.ok ? 'ok' : 'unavailable', policyVersion: h.policyVersion ?? null, database: h.database === undefined ? null : h.database ? 'reachable' : 'unreachable' });
  };
  app.get('/healthz', { schema: { summary: 'Liveness and readiness', tags: ['operations'], security: [] } }, check);
  app.get('/readyz', { schema: { summary: 'Readiness: policy loaded and database reachable (for load balancers)', tags: ['operations'], security: [] } }, check);

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], security: [] } }, async (_req, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
