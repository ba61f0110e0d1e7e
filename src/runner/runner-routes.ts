import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Authenticator } from '../ports/authenticator.js';
import { authHook, BEARER_CREDENTIAL, principalOf } from '../http/auth.js';
import type { PeerCertificate, RunnerAuth } from './runner-auth.js';
import type { RunnerHub } from './runner-hub.js';
import type { SyncRequest } from './runner-protocol.js';

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

/** The client certificate of a TLS connection, as runner-auth reads it; undefined on plain HTTP or without one. */
function peerOf(req: FastifyRequest): PeerCertificate | undefined {
  const socket = req.raw.socket as Partial<TLSSocket>;
  if (!socket.encrypted || typeof socket.getPeerX509Certificate !== 'function') return undefined;
  const x = socket.getPeerX509Certificate();
  if (!x) return undefined;
  const cn = x.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3);
  const error = socket.authorizationError;
  return { authorized: socket.authorized === true, authorizationError: error === undefined || error === null ? undefined : String(error), commonName: cn, fingerprint256: x.fingerprint256 };
}

export interface RunnerSyncDeps {
  hub: RunnerHub;
  authenticate(cred: { bearer?: string | undefined; peer?: PeerCertificate | undefined }): RunnerAuth;
  /** Told about every refusal (audited, throttled by the caller). */
  refused(r: { client: string; reason: string; tls: boolean }): void;
}

/** `POST /v1/runner/sync`: runners only, with their own token, client certificate or both; never an agent's or a human's credentials. */
export function registerRunnerSync(scope: FastifyInstance, deps: RunnerSyncDeps): void {
  // Results carry up to maxOutput of stdout and of stderr each: more than an agent's request body.
  scope.post<{ Body: SyncRequest }>(
    '/v1/runner/sync',
    {
      bodyLimit: 64 * 1024 * 1024,
      schema: { hide: true, body: syncBody },
      // Credentials before the body is read: a refused client never gets to send 64 MB.
      onRequest: async (req) => {
        const header = req.headers.authorization;
        const m = typeof header === 'string' ? BEARER_CREDENTIAL.exec(header) : null;
        const peer = peerOf(req);
        const auth = deps.authenticate({ bearer: m ? m[1]! : typeof header === 'string' ? header : undefined, peer });
        if (!auth.ok) {
          deps.refused({ client: req.ip, reason: auth.reason, tls: peer !== undefined || (req.raw.socket as Partial<TLSSocket>).encrypted === true });
          throw new AppError('RUNNER_UNAUTHENTICATED', header || peer ? `Refused runner credentials: ${auth.reason}` : 'Missing runner credentials: Authorization: Bearer <runner token> or a client certificate');
        }
        (req as FastifyRequest & { runner?: string }).runner = auth.runner;
      },
    },
    async (req, reply) => {
      const runner = (req as FastifyRequest & { runner?: string }).runner!;
      // The runner going away (closed connection, kill -9) ends its poll at once.
      const closed = new AbortController();
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) closed.abort();
      });
      return deps.hub.sync(runner, req.body, closed.signal);
    },
  );
}

/**
 * `POST /v1/runner/sync` on the main listener and `GET /v1/runners` (humans: who is
 * connected, last seen).
 */
export function registerRunnerRoutes(app: FastifyInstance, deps: RunnerSyncDeps & { authenticator: Authenticator }): void {
  void app.register((scope, _o, done) => {
    registerRunnerSync(scope, deps);
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
