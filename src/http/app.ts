import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifySchemaValidationError } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticator } from '../ports/authenticator.js';
import type { ActionsRouteDeps } from './actions-routes.js';
import { registerActionRoutes } from './actions-routes.js';
import { authHook } from './auth.js';
import { AppError, describeError, errorBody, installErrorHandler } from './error-handler.js';
import { registerHealthRoutes } from './health-routes.js';
import { errorSchema } from './schemas.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';

export interface AppDeps extends ActionsRouteDeps {
  authenticator: Authenticator;
  logger: FastifyBaseLogger;
  metrics: Registry;
  bodyLimitBytes: number;
  trustProxy: boolean;
  health(): Promise<{ ok: boolean; policyVersion?: string | undefined; database?: boolean | undefined }>;
  version: string;
  /** Further route groups (integrations, audit...), registered inside the app. */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
}

/**
 * Bodies are validated strictly (no type coercion, unknown keys refused); query
 * strings and params are coerced (they are strings on the wire).
 */
export function validators() {
  const common = { allErrors: false, strict: false, useDefaults: true } as const;
  const body = new Ajv({ ...common, coerceTypes: false, removeAdditional: false });
  const query = new Ajv({ ...common, coerceTypes: 'array', removeAdditional: false });
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) => (httpPart === 'body' ? body.compile(schema) : decimalIntegers(schema, query.compile(schema)));
}

/** A decimal integer as a query string or path segment writes it: no sign, hex, exponent, dot or spaces. */
const DECIMAL_INTEGER = /^(0|[1-9][0-9]{0,15})$/;
type Validate = ((data: unknown) => boolean) & { errors?: FastifySchemaValidationError[] | null | undefined };

/**
 * Ajv's coercion reads a string as JavaScript's `Number()` does, so `?wait=0x10`,
 * `1e1`, ` 16` or `16.0` would pass as integers. What an agent asks for must be
 * spelled one way: integer query and path parameters are checked as decimal text
 * before Ajv coerces them (VALIDATION_FAILED otherwise).
 */
function decimalIntegers(schema: object, validate: Validate): Validate {
  const props = (schema as { properties?: Record<string, { type?: unknown }> }).properties ?? {};
  const keys = Object.keys(props).filter((k) => props[k]?.type === 'integer');
  if (keys.length === 0) return validate;
  const checked: Validate = (data) => {
    if (data && typeof data === 'object') {
      for (const k of keys) {
        const v = (data as Record<string, unknown>)[k];
        if (typeof v === 'string' && !DECIMAL_INTEGER.test(v)) {
          checked.errors = [{ instancePath: `/${k}`, schemaPath: `#/properties/${k}/type`, keyword: 'type', params: { type: 'integer' }, message: 'must be a decimal integer' }];
          return false;
        }
      }
    }
    const ok = validate(data);
    checked.errors = validate.errors;
    return ok;
  };
  return checked;
}

/**
 * JSON bodies that are not valid UTF-8 are refused, not decoded with U+FFFD in place
 * of the bad bytes: what policy and reviewers see must be what the agent sent. Parsing
 * is otherwise Fastify's own (prototype poisoning refused).
 */
function refuseInvalidUtf8(app: FastifyInstance): void {
  const json = app.getDefaultJsonParser('error', 'error');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      done(new AppError('VALIDATION_FAILED', 'The body is not valid UTF-8'), undefined);
      return;
    }
    void json(req, text, done);
  });
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.bodyLimitBytes,
    trustProxy: deps.trustProxy,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLoggerFactory,
    requestIdHeader: false,
    genReqId: () => `req_${Math.random().toString(36).slice(2, 12)}`,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // The router's own refusals (a bad URL, an over-long path parameter) in our error shape,
    // with a catalog code, instead of Fastify's default body.
    frameworkErrors: (err, _req, reply) => {
      const d = describeError(err);
      void (reply as FastifyReply).code(d.status).send(errorBody(d.code, d.message));
    },
    // Requests that arrive while closing are refused by the hook below, in each route's
    // own error shape (Fastify's 503 would skip the Claude Code route's deny).
    return503OnClosing: false,
  });
  // Shared schemas first: adding schemas in a child context would give it a fresh
  // schema controller with Fastify's default (coercing, key-stripping) validator.
  app.addSchema(errorSchema);
  app.setValidatorCompiler(validators());
  installErrorHandler(app);
  refuseInvalidUtf8(app);

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', (_req, _reply, done) => done(closing ? new AppError('SHUTTING_DOWN') : undefined));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Countersign API', version: deps.version, description: 'Action-level approval gateway for AI agents' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // One access-log line per request, after it completes, with its request id.
  app.addHook('onResponse', async (req, reply) => {
    // A refusal answered as a 200 decision (the Claude Code hook) is logged as the error it is.
    const refused = reply.getHeader('x-countersign-error');
    const level = reply.statusCode >= 500 ? 'error' : reply.statusCode >= 400 || refused !== undefined ? 'info' : 'debug';
    // Skip building the line when its level is off (the 2xx hot path at info).
    if (!(req.log as unknown as Logger).isLevelEnabled(level)) return;
    const who = req.principal ? `${req.principal.type}:${req.principal.id}` : undefined;
    req.log[level]({ method: req.method, url: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime), principal: who, ...(refused !== undefined ? { error: refused } : {}) }, 'request');
  });

  registerHealthRoutes(app, deps);

  await app.register(async (v1) => {
    v1.addHook('onRequest', authHook(deps.authenticator));
    registerActionRoutes(v1, deps);
  });

  for (const plugin of deps.plugins ?? []) await app.register(async (scope) => plugin(scope));
  return app;
}
