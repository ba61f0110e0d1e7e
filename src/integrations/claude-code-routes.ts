import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseDuration } from '../domain/duration.js';
import { AppError } from '../domain/errors.js';
import { authHook, principalOf } from '../http/auth.js';
import { describeError } from '../http/error-handler.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { HeldCallService } from '../services/held-call-service.js';
import { HookBodyRefusal, drainBody, hookBodyParser } from './claude-code-body.js';
import type { PreToolUseInput, PreToolUseOutput } from './claude-code.js';
import { actionFromHook, hookDecision, hookOutputOf } from './claude-code.js';

export const PRE_TOOL_USE_PATH = '/integrations/claude-code/pre-tool-use';

export interface ClaudeCodeSettings {
  target: string;
  wait: string;
  onPending: 'deny' | 'ask';
}

/** Checks the hook input by hand, with messages in the hook's own field names. */
function readInput(body: unknown): PreToolUseInput {
  if (body instanceof HookBodyRefusal) throw new AppError(body.code, body.message);
  const refuse = (message: string) => new AppError('VALIDATION_FAILED', message);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.tool_name !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(b.tool_name)) throw refuse('tool_name: a tool name of 1-256 printable ASCII characters is required');
  if (typeof b.tool_input !== 'object' || b.tool_input === null || Array.isArray(b.tool_input)) throw refuse('tool_input: must be an object');
  for (const k of ['session_id', 'cwd', 'permission_mode', 'hook_event_name', 'tool_use_id', 'transcript_path'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'string') throw refuse(`${k}: must be a string`);
  }
  if (b.hook_event_name !== undefined && b.hook_event_name !== 'PreToolUse') throw refuse('hook_event_name: this endpoint takes PreToolUse only');
  return b as unknown as PreToolUseInput;
}

const INTERNAL = { code: 'INTERNAL', message: '', masked: true } as const;

/** How much of a refused body is read (and dropped) before the answer, as a multiple of the body limit. */
const DRAIN_FACTOR = 4;

/**
 * Every failure on the route, whatever raised it (the auth hook, Fastify's header and
 * content-type checks, the body parser, the handler, the services), becomes HTTP 200
 * with a `deny` naming the error code, in the reason and in the `x-countersign-error`
 * header. What the client is still sending is drained first (bounded), so that the
 * answer reaches it rather than a closed connection.
 */
function denyOnError(drainMax: number) {
  return async (err: FastifyError | AppError, req: FastifyRequest, reply: FastifyReply): Promise<PreToolUseOutput> => {
    // Whatever was thrown (even not an Error), this handler must not throw: Fastify would fall back to a 500.
    const d = err instanceof Error ? describeError(err) : INTERNAL;
    if (d.masked) req.log.error({ err }, 'claude-code hook failed');
    // A 200 decision: headers meant for an error answer do not apply.
    reply.removeHeader('www-authenticate');
    void reply.status(200).header('x-countersign-error', d.code);
    await drainBody(req.raw, drainMax);
    return hookDecision('deny', `Countersign refused this tool use [${d.code}]: ${d.masked ? 'the gateway cannot decide now' : d.message}`);
  };
}

/**
 * POST /integrations/claude-code/pre-tool-use, for Claude Code's PreToolUse hook.
 *
 * Claude Code lets the tool run when an HTTP hook answers anything but 2xx (or does not
 * answer), so this route answers HTTP 200 with a `deny` decision for every failure it
 * can answer. That holds by construction: it has its own scope with its own error
 * handler (denyOnError), its own content-type parser (which never fails and buffers at
 * most server.bodyLimitBytes), and authenticates in an onRequest hook, so an
 * unauthenticated body is never parsed. Only an approval allows.
 */
/**
 * `?wait=SECONDS`: the hook's own time-out, less a margin. Holding past it would leave
 * the hook to deny without the answer that names the action; at most the configured wait.
 */
function requestedHoldMs(query: unknown): number {
  const w = (query as { wait?: unknown } | undefined)?.wait;
  return typeof w === 'string' && /^\d{1,6}$/.test(w) ? Number(w) * 1000 : Infinity;
}

export function claudeCodeRoutes(deps: { held: HeldCallService; authenticator: Authenticator; settings: ClaudeCodeSettings; publicUrl(): string }) {
  const waitMs = parseDuration(deps.settings.wait);
  return (app: FastifyInstance): void => {
    void app.register(async (scope) => {
      const limit = scope.initialConfig.bodyLimit ?? 1024 * 1024;
      scope.setErrorHandler(denyOnError(DRAIN_FACTOR * limit));
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', hookBodyParser(limit, scope.getDefaultJsonParser('error', 'error')));
      scope.addHook('onRequest', authHook(deps.authenticator));

      // Held calls still waiting when the server shuts down answer now (pending: deny),
      // rather than be cut off when their connections are closed.
      const holds = new Set<AbortController>();
      scope.addHook('preClose', async () => holds.forEach((ac) => ac.abort()));

      scope.post(PRE_TOOL_USE_PATH, { schema: { hide: true } }, async (req, reply): Promise<PreToolUseOutput> => {
        const who = principalOf(req);
        const input = readInput(req.body);
        const ac = new AbortController();
        // The response closes before it is written only when the hook hung up.
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) ac.abort();
        });
        // It may have hung up already, while the request was authenticated and read.
        if (reply.raw.destroyed || req.raw.socket?.destroyed) ac.abort();
        holds.add(ac);
        const holdMs = Math.min(waitMs, requestedHoldMs(req.query));
        try {
          const outcome = await deps.held.call(who, actionFromHook(input, deps.settings.target), { holdMs, tickMs: waitMs, signal: ac.signal });
          return hookOutputOf(outcome, `${deps.publicUrl()}/v1/actions/${outcome.action.id}`, deps.settings.onPending);
        } finally {
          holds.delete(ac);
        }
      });
    });
  };
}
