import type { FastifyInstance } from 'fastify';
import type { Principal } from '../domain/identity.js';
import { parseDuration } from '../domain/duration.js';
import { isAppError } from '../domain/errors.js';
import { BEARER_CREDENTIAL } from '../http/auth.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { HeldCallService } from '../services/held-call-service.js';
import type { PreToolUseInput, PreToolUseOutput } from './claude-code.js';
import { actionFromHook, hookDecision, hookOutputOf } from './claude-code.js';

export const PRE_TOOL_USE_PATH = '/integrations/claude-code/pre-tool-use';

export interface ClaudeCodeSettings {
  target: string;
  wait: string;
  onPending: 'deny' | 'ask';
}

/** Checks the hook input by hand: a failure must still answer a decision (see below). */
function readInput(body: unknown): PreToolUseInput | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b.tool_name !== 'string' || !/^[\x21-\x7e]{1,256}$/.test(b.tool_name)) return 'tool_name: a tool name of 1-256 printable ASCII characters is required';
  if (typeof b.tool_input !== 'object' || b.tool_input === null || Array.isArray(b.tool_input)) return 'tool_input: must be an object';
  for (const k of ['session_id', 'cwd', 'permission_mode', 'hook_event_name', 'tool_use_id', 'transcript_path'] as const) {
    if (b[k] !== undefined && typeof b[k] !== 'string') return `${k}: must be a string`;
  }
  if (b.hook_event_name !== undefined && b.hook_event_name !== 'PreToolUse') return 'hook_event_name: this endpoint takes PreToolUse only';
  return b as unknown as PreToolUseInput;
}

/**
 * POST /integrations/claude-code/pre-tool-use, for Claude Code's PreToolUse hook.
 *
 * Claude Code lets the tool run when a hook answers anything but 2xx, so this route
 * answers HTTP 200 with a `deny` decision for every failure it can answer (bad
 * credentials, bad input, no policy, storage down), naming the error code in the
 * reason and in the `x-countersign-error` header. Only an approval allows.
 */
export function claudeCodeRoutes(deps: { held: HeldCallService; authenticator: Authenticator; settings: ClaudeCodeSettings; publicUrl(): string }) {
  const waitMs = parseDuration(deps.settings.wait);
  return (app: FastifyInstance): void => {
    app.post(PRE_TOOL_USE_PATH, { schema: { hide: true } }, async (req, reply): Promise<PreToolUseOutput> => {
      const refuse = (code: string, message: string) => {
        void reply.header('x-countersign-error', code);
        return hookDecision('deny', `Countersign refused this tool use [${code}]: ${message}`);
      };
      const header = req.headers.authorization;
      const m = typeof header === 'string' ? BEARER_CREDENTIAL.exec(header) : null;
      const who: Principal | undefined = m ? await deps.authenticator.authenticate(m[1]!) : undefined;
      if (!who) return refuse('UNAUTHENTICATED', header ? 'invalid credentials' : 'missing Authorization: Bearer <token>');
      const input = readInput(req.body);
      if (typeof input === 'string') return refuse('VALIDATION_FAILED', input);
      const ac = new AbortController();
      // The response closes before it is written only when the hook hung up.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) ac.abort();
      });
      // It may have hung up already, while the request was authenticated and read.
      if (reply.raw.destroyed || req.raw.socket?.destroyed) ac.abort();
      try {
        const outcome = await deps.held.call(who, actionFromHook(input, deps.settings.target), { holdMs: waitMs, tickMs: waitMs, signal: ac.signal });
        return hookOutputOf(outcome, `${deps.publicUrl()}/v1/actions/${outcome.action.id}`, deps.settings.onPending);
      } catch (e) {
        if (isAppError(e)) return refuse(e.code, e.status >= 500 ? 'the gateway cannot decide now' : e.message);
        req.log.error({ err: e }, 'claude-code hook failed');
        return refuse('INTERNAL', 'the gateway cannot decide now');
      }
    });
  };
}
