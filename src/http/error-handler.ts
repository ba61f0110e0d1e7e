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
};

/**
 * The one HTTP error handler: AppErrors keep their code; validation and parser
 * errors become 4xx with details; anything else is a masked 500 (logged, never
 * sent: no stack trace leaves the server).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (isAppError(err)) {
      const masked = err.status >= 500;
      if (masked) req.log.error({ err }, 'request failed');
      return reply.status(err.status).send(errorBody(err.code, masked ? ERROR_CODES[err.code].message : err.message, masked ? undefined : err.details));
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
      return reply.status(400).send(errorBody('VALIDATION_FAILED', msg, { issues }));
    }
    const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
    if (mapped) return reply.status(ERROR_CODES[mapped].status).send(errorBody(mapped, fe.message));
    if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send(errorBody('VALIDATION_FAILED', fe.message));
    }
    req.log.error({ err }, 'unexpected error');
    return reply.status(500).send(errorBody('INTERNAL', ERROR_CODES.INTERNAL.message));
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(errorBody('ROUTE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`));
  });
}

export { AppError };
