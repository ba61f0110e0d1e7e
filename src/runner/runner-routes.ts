import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Authenticator } from '../ports/authenticator.js';
import { authHook, BEARER_CREDENTIAL, principalOf } from '../http/auth.js';
import type { RunnerHub } from './runner-hub.js';
import type { SyncRequest } from './runner-protocol.js';

/** Runner tokens, held as SHA-256 hashes; confirmed with a constant-time comparison. */
export function runnerAuthenticator(list: ReadonlyArray<{ id: string; tokenHash: string }>): (bearer: string) => string | undefined {
  const byHash = new Map(list.map((r) => [r.tokenHash, { id: r.id, digest: Buffer.from(r.tokenHash.slice(7), 'hex') }]));
  return (bearer) => {
    const digest = createHash('sha256').update(bearer, 'utf8').digest();
    const found = byHash.get(`sha256:${digest.toString('hex')}`);
    return found && timingSafeEqual(found.digest, digest) ? found.id : undefined;
  };
}

const syncBody = {
  type: 'object',
  additionalProperties: false,
  required: ['instance', 'host', 'targets', 'running', 'results', 'waitMs'],
  properties: {
    instance: { type: 'string', pattern: '^[A-Za-z0-9-]{8,64}$' },
    host: { type: 'string', maxLength: 255 },
    targets: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 200 } },
    running: { type: 'array', maxItems: 10000, items: { type: 'string', maxLength: 64 } },
    results: { type: 'array', maxItems: 1000, items: { type: 'object', required: ['jobId', 'type'], properties: { jobId: { type: 'string', maxLength: 64 }, type: { enum: ['execute', 'preview'] } } } },
    waitMs: { type: 'integer', minimum: 0, maximum: 60000 },
  },
} as const;

/**
 * `POST /v1/runner/sync` (runners, with their own tokens; never an agent's or a human's)
 * and `GET /v1/runners` (humans: who is connected, last seen).
 */
export function registerRunnerRoutes(app: FastifyInstance, deps: { hub: RunnerHub; runnerOf(bearer: string): string | undefined; authenticator: Authenticator }): void {
  void app.register((scope, _o, done) => {
    // Results carry up to maxOutput of stdout and of stderr each: more than an agent's request body.
    scope.post<{ Body: SyncRequest }>('/v1/runner/sync', { bodyLimit: 64 * 1024 * 1024, schema: { hide: true, body: syncBody } }, async (req, reply) => {
      const header = req.headers.authorization;
      const m = typeof header === 'string' ? BEARER_CREDENTIAL.exec(header) : null;
      const runner = m ? deps.runnerOf(m[1]!) : undefined;
      if (!runner) throw new AppError('RUNNER_UNAUTHENTICATED', header ? 'Invalid runner credentials' : 'Missing Authorization: Bearer <runner token>');
      // The runner going away (closed connection, kill -9) ends its poll at once.
      const closed = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) closed.abort();
      });
      return deps.hub.sync(runner, req.body, closed.signal);
    });
    done();
  });
  void app.register((scope, _o, done) => {
    scope.addHook('onRequest', authHook(deps.authenticator));
    scope.get('/v1/runners', { schema: { summary: 'Runners: configured and connected, with last seen', tags: ['runners'] } }, async (req) => {
      if (principalOf(req).type !== 'human') throw new AppError('FORBIDDEN', 'Only humans list runners');
      return { runners: await deps.hub.list() };
    });
    done();
  });
}
