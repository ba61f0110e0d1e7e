import type { FastifyInstance } from 'fastify';
import type { ActionRequest } from '../domain/action.js';
import type { Principal } from '../domain/identity.js';
import type { ExecutionService } from '../services/execution-service.js';
import { AppError } from '../domain/errors.js';
import type { Status } from '../domain/status.js';
import type { QueryService } from '../services/query-service.js';
import type { ReviewService } from '../services/review-service.js';
import type { SubmitService } from '../services/submit-service.js';
import { actionView } from './action-view.js';
import { grantAskOf } from './grants-routes.js';
import { principalOf } from './auth.js';
import {
  actionListSchema,
  actionRequestSchema,
  actionSchema,
  approveBodySchema,
  denyBodySchema,
  idParamsSchema,
  listQuerySchema,
  waitQuerySchema,
} from './schemas.js';

export interface ActionsRouteDeps {
  submit: SubmitService;
  reviews: ReviewService;
  queries: QueryService;
  /** Runs an allowed execute-mode action inside its POST when the caller waits (`?wait=`). */
  executions?: Pick<ExecutionService, 'complete'> | undefined;
  publicUrl: string;
  maxWaitSeconds: number;
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' }, 409: { $ref: 'Error#' } };

function encodeCursor(a: { createdAt: string; id: string }): string {
  return Buffer.from(JSON.stringify([a.createdAt, a.id])).toString('base64url');
}

function decodeCursor(c: string): { createdAt: string; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(c, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') return { createdAt: v[0], id: v[1] };
  } catch {
    // fall through
  }
  throw new AppError('VALIDATION_FAILED', 'querystring/cursor: not a cursor returned by this API');
}

export function registerActionRoutes(app: FastifyInstance, deps: ActionsRouteDeps): void {
  const view = (a: Parameters<typeof actionView>[0], who: Principal) => actionView(a, deps.publicUrl, who);

  app.post<{ Body: ActionRequest; Headers: { 'idempotency-key'?: string }; Querystring: { wait?: number } }>(
    '/v1/actions',
    {
      schema: {
        summary: 'Submit an action; with ?wait=SECONDS, also wait for it to settle',
        description:
          'Policy decides allow, deny or review. 201 when created; 200 when an Idempotency-Key replays an earlier submission. With ?wait, an allowed execute-mode action runs within this request and the answer holds its result; one that needs review is long-polled like GET ?wait.',
        tags: ['actions'],
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', maxLength: 255 } } },
        querystring: waitQuerySchema,
        body: actionRequestSchema,
        response: { 200: actionSchema, 201: actionSchema, ...errors },
      },
    },
    async (req, reply) => {
      const key = req.headers['idempotency-key'];
      if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) throw new AppError('VALIDATION_FAILED', 'headers/idempotency-key: 1-255 printable ASCII characters');
      const who = principalOf(req);
      const wait = Math.min(req.query.wait ?? 0, deps.maxWaitSeconds);
      const inline = wait > 0 && deps.executions !== undefined;
      // Inline: inserted already running (one durable write less), run here and recorded
      // before the answer, as the MCP gateway does; a crash in between leaves it interrupted, never re-run.
      const { action, created } = await deps.submit.submit(who, req.body, key, inline ? { inline: true } : {});
      let out = action;
      if (inline && created && action.status === 'running') out = await deps.executions!.complete(action);
      else if (wait > 0) {
        // The response's close, not the request's: a request's fires once its body is read.
        const ac = new AbortController();
        // Only a caller that hung up aborts: an answered wait closes too, and an abort builds a DOMException.
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) ac.abort();
        });
        out = await deps.queries.wait(who, action.id, wait, ac.signal);
      }
      return reply.status(created ? 201 : 200).send(view(out, who));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { wait?: number } }>(
    '/v1/actions/:id',
    {
      schema: {
        summary: 'Read an action; with ?wait=SECONDS, long poll until it settles',
        tags: ['actions'],
        params: idParamsSchema,
        querystring: waitQuerySchema,
        response: { 200: actionSchema, ...errors },
      },
    },
    async (req, reply) => {
      const who = principalOf(req);
      const wait = Math.min(req.query.wait ?? 0, deps.maxWaitSeconds);
      if (wait <= 0) return view(await deps.queries.get(who, req.params.id), who);
      const ac = new AbortController();
      // As above: the caller hanging up ends the wait; the close after the answer aborts nothing.
      reply.raw.once('close', () => {
        if (!reply.raw.writableFinished) ac.abort();
      });
      return view(await deps.queries.wait(who, req.params.id, wait, ac.signal), who);
    },
  );

  app.get<{ Querystring: { status?: Status[]; limit: number; cursor?: string } }>(
    '/v1/actions',
    {
      schema: {
        summary: 'List actions: agents see their own; humans what they may review or have reviewed',
        tags: ['actions'],
        querystring: listQuerySchema,
        response: { 200: actionListSchema, ...errors },
      },
      preValidation: async (req) => {
        // ?status=a,b and ?status=a&status=b both work.
        const q = req.query as Record<string, unknown>;
        if (typeof q.status === 'string') q.status = q.status.split(',').filter(Boolean);
        else if (Array.isArray(q.status)) q.status = q.status.flatMap((s) => String(s).split(',')).filter(Boolean);
      },
    },
    async (req) => {
      const { limit, status, cursor } = req.query;
      const who = principalOf(req);
      const rows = await deps.queries.list(who, {
        limit: limit + 1,
        ...(status ? { status } : {}),
        ...(cursor ? { before: decodeCursor(cursor) } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { actions: page.map((a) => view(a, who)), ...(rows.length > limit && last ? { nextCursor: encodeCursor(last) } : {}) };
    },
  );

  app.post<{ Params: { id: string }; Body: { fingerprint: string; comment?: string; grant?: { ttl: string; uses: number; path?: string } } }>(
    '/v1/actions/:id/approve',
    {
      schema: {
        summary: 'Approve an action (eligible humans only; never the requester, the human it acts for or the agent\'s owner)',
        tags: ['reviews'],
        params: idParamsSchema,
        body: approveBodySchema,
        response: { 200: actionSchema, ...errors },
      },
    },
    async (req) => {
      const who = principalOf(req);
      const a = await deps.reviews.review(who, req.params.id, {
        verdict: 'approve',
        fingerprint: req.body.fingerprint,
        comment: req.body.comment,
        via: 'api',
        grant: grantAskOf(req.body.grant),
      });
      return view(a, who);
    },
  );

  app.post<{ Params: { id: string }; Body: { comment: string } }>(
    '/v1/actions/:id/deny',
    {
      schema: {
        summary: 'Deny an action; one eligible deny is final',
        tags: ['reviews'],
        params: idParamsSchema,
        body: denyBodySchema,
        response: { 200: actionSchema, ...errors },
      },
    },
    async (req) => {
      const who = principalOf(req);
      return view(await deps.reviews.review(who, req.params.id, { verdict: 'deny', comment: req.body.comment, via: 'api' }), who);
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/actions/:id/cancel',
    {
      schema: {
        summary: 'Cancel a pending action (requester only)',
        tags: ['actions'],
        params: idParamsSchema,
        response: { 200: actionSchema, ...errors },
      },
    },
    async (req) => {
      const who = principalOf(req);
      // Someone else's action is not found, as on read: ids are not confirmed to strangers.
      await deps.queries.get(who, req.params.id);
      return view(await deps.reviews.cancel(who, req.params.id), who);
    },
  );
}
