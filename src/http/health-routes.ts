import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export function registerHealthRoutes(
  app: FastifyInstance,
  deps: { metrics: Registry; health(): Promise<{ ok: boolean; policyVersion?: string | undefined }> },
): void {
  app.get('/healthz', { schema: { summary: 'Liveness and readiness', tags: ['operations'], security: [] } }, async (_req, reply) => {
    const h = await deps.health();
    return reply.status(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'unavailable', policyVersion: h.policyVersion ?? null });
  });

  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['operations'], security: [] } }, async (_req, reply) => {
    return reply.type(deps.metrics.contentType).send(await deps.metrics.metrics());
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}
