import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import { installErrorHandler } from '../http/error-handler.js';
import type { HeldCallService } from '../services/held-call-service.js';
import { PRE_TOOL_USE_PATH, claudeCodeRoutes } from './claude-code-routes.js';

const agent = { type: 'agent', id: 'bot', owner: 'o@example.com' } as unknown as Principal;
const input = { tool_name: 'Bash', tool_input: { command: 'ls' } };

let app: FastifyInstance | undefined;
afterEach(async () => app?.close());

/** The route alone, registered as the server registers it, over a held-call service that fails as told. */
async function routeFailingWith(failure: () => unknown): Promise<FastifyInstance> {
  app = Fastify({ bodyLimit: 1024 });
  installErrorHandler(app);
  const held: HeldCallService = {
    call: () => {
      throw failure();
    },
  };
  const plugin = claudeCodeRoutes({ held, authenticator: { authenticate: (t) => Promise.resolve(t === 'good' ? agent : undefined) }, settings: { target: 'claude-code', wait: '1s', onPending: 'deny' }, publicUrl: () => 'http://x' });
  await app.register(async (scope) => plugin(scope));
  return app;
}

const post = (a: FastifyInstance, body = JSON.stringify(input)) => a.inject({ method: 'POST', url: PRE_TOOL_USE_PATH, headers: { authorization: 'Bearer good', 'content-type': 'application/json' }, payload: body });

describe('Claude Code hook route: failures past the input', () => {
  it('an internal error is a 200 deny naming INTERNAL, its details only in the log', async () => {
    const r = await post(await routeFailingWith(() => new Error('SQLITE_CORRUPT at /var/lib/countersign.db')));
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-countersign-error']).toBe('INTERNAL');
    expect(r.json()).toEqual({ hookSpecificOutput: { hookEventName: 'PreToolUse', permissionDecision: 'deny', permissionDecisionReason: 'Countersign refused this tool use [INTERNAL]: the gateway cannot decide now' } });
  });

  it('storage down and no policy are 200 denies naming their codes, masked', async () => {
    for (const code of ['STORAGE_ERROR', 'POLICY_UNAVAILABLE'] as const) {
      const r = await post(await routeFailingWith(() => new AppError(code, 'disk /dev/sda1 failed')));
      expect(r.statusCode).toBe(200);
      expect(r.json<{ hookSpecificOutput: unknown }>().hookSpecificOutput).toMatchObject({ permissionDecision: 'deny', permissionDecisionReason: `Countersign refused this tool use [${code}]: the gateway cannot decide now` });
      await app?.close();
    }
  });

  it('something thrown that is not an Error is still a 200 deny', async () => {
    const r = await post(await routeFailingWith(() => 'a string'));
    expect(r.statusCode).toBe(200);
    expect(r.headers['x-countersign-error']).toBe('INTERNAL');
  });

  it('the route keeps its own error shape: other routes still answer errors as the API does', async () => {
    const a = await routeFailingWith(() => new Error('x'));
    a.get('/other', () => {
      throw new AppError('VALIDATION_FAILED', 'bad');
    });
    const r = await a.inject({ method: 'GET', url: '/other' });
    expect(r.statusCode).toBe(400);
    expect(r.json()).toEqual({ error: { code: 'VALIDATION_FAILED', message: 'bad' } });
    // And the route's own body limit is the server's (1 KiB here).
    const big = await post(a, JSON.stringify({ ...input, tool_input: { command: 'x'.repeat(2000) } }));
    expect(big.statusCode).toBe(200);
    expect(big.headers['x-countersign-error']).toBe('PAYLOAD_TOO_LARGE');
  });
});
