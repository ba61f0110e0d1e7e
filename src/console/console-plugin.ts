import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, isAppError } from '../domain/errors.js';
import { decodeForm } from '../domain/form-decode.js';
import { describeError, errorBody } from '../http/error-handler.js';
import { registerConsoleAssets } from './console-assets.js';
import { registerAuditPages } from './console-audit-routes.js';
import { registerAuthRoutes } from './console-auth-routes.js';
import { registerBatchPages } from './console-batch-routes.js';
import type { ConsoleDeps } from './console-context.js';
import { sessionCookieName } from './console-context.js';
import { readCookie } from './console-cookies.js';
import { registerDetailRoutes } from './console-detail-routes.js';
import { registerGrantPages } from './console-grants-routes.js';
import { registerHistoryRoutes } from './console-history-routes.js';
import { registerInboxRoutes } from './console-inbox-routes.js';
import { errorPage } from './console-layout.js';
import { registerLinkRoutes } from './console-link-routes.js';

/** Largest console form (a batch decision: 100 checked rows and a comment). */
export const FORM_LIMIT_BYTES = 32 * 1024;

/** No inline script or style, nothing from another origin; forms post here (logout redirects on to the IdP). */
function csp(issuerOrigin: string): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    `form-action 'self' ${issuerOrigin}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const wantsJson = (req: FastifyRequest) => req.url.startsWith('/console/api/') || req.url.startsWith('/console/events');

/** Resolves the session cookie; pages without one redirect to sign-in, an ended one says so. */
export function sessionHook(deps: ConsoleDeps, mode: 'page' | 'json') {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const token = readCookie(req.headers.cookie, sessionCookieName(deps.publicUrl()));
    const r = await deps.sessions.resolve(token);
    if (r.ok) {
      req.consoleUser = r.signedIn;
      return;
    }
    if (mode === 'json') throw new AppError(r.reason === 'none' ? 'CONSOLE_SIGNIN_REQUIRED' : 'CONSOLE_SESSION_ENDED');
    const back = encodeURIComponent(req.url);
    if (r.reason === 'none' && req.method === 'GET') return reply.redirect(`/console/login?returnTo=${back}`, 303);
    const why = r.reason === 'idle' ? 'Your session ended after a period without activity.' : r.reason === 'expired' ? 'Your session reached its maximum length.' : r.reason === 'ended' ? 'Your session was ended (signed out or revoked).' : 'You are not signed in.';
    return reply
      .status(401)
      .type('text/html; charset=utf-8')
      .send(errorPage(r.reason === 'none' ? 'CONSOLE_SIGNIN_REQUIRED' : 'CONSOLE_SESSION_ENDED', `${why} Sign in again to continue.`, undefined, { href: `/console/login?returnTo=${back}`, label: 'Sign in again' }));
  };
}

/** Checks the form's anti-forgery token against the session (constant time). */
export function checkCsrf(deps: ConsoleDeps, req: FastifyRequest, form: Record<string, unknown>): void {
  const token = readCookie(req.headers.cookie, sessionCookieName(deps.publicUrl()));
  if (!token || !deps.sessions.csrfMatches(token, form._csrf)) throw new AppError('CSRF_INVALID');
}

/** The console under /console: its own error pages, form parser and security headers. */
export async function consolePlugin(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const issuerOrigin = new URL(deps.config.oidc.issuer).origin;
  const policy = csp(issuerOrigin);

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_LIMIT_BYTES }, (_req, body, done) => {
    const r = decodeForm(body as string);
    if (!r.ok) done(new AppError('VALIDATION_FAILED', `The form is malformed: ${r.message}`), undefined);
    else done(null, r.value);
  });

  app.addHook('onSend', async (_req, reply, payload) => {
    void reply.header('content-security-policy', policy);
    void reply.header('x-frame-options', 'DENY');
    void reply.header('x-content-type-options', 'nosniff');
    void reply.header('referrer-policy', 'same-origin');
    void reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    const d = describeError(err);
    if (d.masked) req.log.error({ err }, isAppError(err) ? 'console request failed' : 'unexpected console error');
    if (wantsJson(req)) return reply.status(d.status).send(errorBody(d.code, d.message, d.details));
    const back = req.consoleUser ? { href: '/console/inbox', label: 'Back to the inbox' } : { href: '/console/login', label: 'Sign in' };
    return reply.status(d.status).type('text/html; charset=utf-8').send(errorPage(d.code, d.message, req.consoleUser, back));
  });
  app.setNotFoundHandler((req, reply) => {
    const message = `There is no page ${req.method} ${req.url.split('?')[0]}`;
    if (wantsJson(req)) return reply.status(404).send(errorBody('ROUTE_NOT_FOUND', message));
    return reply.status(404).type('text/html; charset=utf-8').send(errorPage('ROUTE_NOT_FOUND', message, undefined, { href: '/console/inbox', label: 'Go to the inbox' }));
  });

  registerConsoleAssets(app);
  registerAuthRoutes(app, deps);
  registerInboxRoutes(app, deps);
  registerBatchPages(app, deps);
  registerDetailRoutes(app, deps);
  registerHistoryRoutes(app, deps);
  registerGrantPages(app, deps);
  registerAuditPages(app, deps);
  registerLinkRoutes(app, deps);
}
