import type { FastifyError, FastifyInstance } from 'fastify';
import type { ErrorCode } from '../domain/errors.js';
import { AppError, ERROR_CODES, isAppError } from '../domain/errors.js';

export function errorBody(code: ErrorCode, message: string, details?: Record<string, unknown>) {
  return { error: details ? { code, message, details } : { code, message } };
}

/** Fastify's own error codes mapped to ours: every malformed request gets a 4xx with a stable code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  // Raised by the router before any route runs (see frameworkErrors in app.ts); found by the API fuzz test.
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
};

/** What a failed request answers: its status, stable code and a message safe to send. */
export interface DescribedError {
  status: number;
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  /** A server-side failure: logged, and only the catalog's message is sent. */
  masked: boolean;
}

/**
 * AppErrors keep their code; validation and parser errors become 4xx with details;
 * anything else is a masked 500. Shared by every error handler, so that a route that
 * answers errors in another shape (the Claude Code hook) names the same codes.
 */
export function describeError(err: FastifyError | AppError): DescribedError {
  if (isAppError(err)) {
    const masked = err.status >= 500;
    return { status: err.status, code: err.code, message: masked ? ERROR_CODES[err.code].message : err.message, ...(!masked && err.details ? { details: err.details } : {}), masked };
  }
  const fe = err;
  if (fe.validation) {
    const issues = fe.validation.map((v) => ({
      path: `${fe.validationContext ?? ''}${v.instancePath || ''}`,
      message: v.message ?? 'invalid',
      ...(v.keyword === 'additionalProperties' ? { unknownKey: (v.params as { additionalProperty?: string }).additionalProperty } : {}),
    }));
    const first = issues[0];
    const msg = first ? `${first.path || fe.validationContext}: ${first.message}${first.unknownKey ? ` (${first.unknownKey})` : ''}` : 'invalid request';
    return { status: 400, code: 'VALIDATION_FAILED', message: msg, details: { issues }, masked: false };
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped) return { status: ERROR_CODES[mapped].status, code: mapped, message: fe.message, masked: false };
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'VALIDATION_FAILED', message: fe.message, masked: false };
  }
  return { status: 500, code: 'INTERNAL', message: ERROR_CODES.INTERNAL.message, masked: true };
}

/**
 * The one HTTP error handler: answers `{ error: { code, message, details } }` with the
 * status of describeError; a masked error is logged, never sent (no stack trace leaves
 * the server).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const d = describeError(err);
    if (d.masked) req.log.error({ err }, isAppError(err) ? 'request failed' : 'unexpected error');
    return reply.status(d.status).send(errorBody(d.code, d.message, d.details));
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`));
  });
}

export { AppError };
