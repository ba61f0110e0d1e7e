import type { FastifyInstance } from 'fastify';
import { consoleIdentity } from '../domain/console-identity.js';
import { AppError } from '../domain/errors.js';
import { safeReturnPath } from '../domain/return-path.js';
import type { ConsoleDeps } from './console-context.js';
import { isSecure, sessionCookieName } from './console-context.js';
import { readCookie, setCookie } from './console-cookies.js';
import { html } from './console-html.js';
import { page } from './console-layout.js';
import type { LoginTransaction } from './console-oidc.js';
import { checkCsrf, sessionHook } from './console-plugin.js';

const LOGIN_COOKIE = 'cs_login';
const LOGIN_PATH = '/console/auth';
const LOGIN_TTL_S = 600;

function readTx(cookie: string | undefined): LoginTransaction | undefined {
  if (!cookie || cookie.length > 2048) return undefined;
  try {
    const o = JSON.parse(Buffer.from(cookie, 'base64url').toString('utf8')) as Record<string, unknown>;
    const ok = ['state', 'nonce', 'verifier', 'returnTo'].every((k) => typeof o[k] === 'string' && (o[k]).length <= 1024);
    return ok ? (o as unknown as LoginTransaction) : undefined;
  } catch {
    return undefined;
  }
}

const loginQuery = { type: 'object', additionalProperties: false, properties: { returnTo: { type: 'string', maxLength: 1024 } } } as const;
// Identity providers add their own parameters (session_state, scope, authuser, hd...): only these are read.
const callbackQuery = {
  type: 'object',
  properties: {
    code: { type: 'string', maxLength: 4096 },
    state: { type: 'string', maxLength: 1024 },
    iss: { type: 'string', maxLength: 1024 },
    error: { type: 'string', maxLength: 256 },
    error_description: { type: 'string', maxLength: 1024 },
  },
} as const;

/** Sign-in (OIDC code flow with PKCE, state, nonce), sign-out (local, then at the IdP). */
export function registerAuthRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const secure = () => isSecure(deps.publicUrl());

  app.get('/', async (_req, reply) => reply.redirect('/console/inbox', 303));

  app.get('/login', { schema: { querystring: loginQuery } }, async (req, reply) => {
    const { returnTo } = req.query as { returnTo?: string };
    const { url, tx } = await deps.oidc.begin(safeReturnPath(returnTo));
    void reply.header('set-cookie', setCookie(LOGIN_COOKIE, Buffer.from(JSON.stringify(tx)).toString('base64url'), { path: LOGIN_PATH, secure: secure(), maxAge: LOGIN_TTL_S }));
    return reply.redirect(url, 303);
  });

  app.get('/auth/callback', { schema: { querystring: callbackQuery } }, async (req, reply) => {
    const q = req.query as { code?: string; state?: string; error?: string; error_description?: string };
    const clear = setCookie(LOGIN_COOKIE, '', { path: LOGIN_PATH, secure: secure(), maxAge: 0 });
    void reply.header('set-cookie', clear);
    if (q.error) throw new AppError('CONSOLE_SIGNIN_FAILED', `The identity provider did not sign you in (${q.error}${q.error_description ? `: ${q.error_description}` : ''}).`);
    const tx = readTx(readCookie(req.headers.cookie, LOGIN_COOKIE));
    if (!tx) throw new AppError('CONSOLE_SIGNIN_FAILED', 'This sign-in was not started here, or took longer than 10 minutes: start again.');
    if (!q.code || !q.state) throw new AppError('CONSOLE_SIGNIN_FAILED', 'The identity provider sent no authorization code.');
    const claims = await deps.oidc.finish(new URL(req.url, `${deps.publicUrl()}/`), tx);
    const who = consoleIdentity(claims, { ...deps.config.oidc, humans: deps.humans });
    if (!who.ok) throw new AppError('CONSOLE_SIGNIN_FAILED', who.reason);
    const { token, session } = await deps.sessions.start(who.human);
    req.log.info({ session: session.id, human: session.human, known: session.known }, 'console sign-in');
    void reply.header('set-cookie', [
      clear,
      // A browser-session cookie: the server decides expiry, so an expired session is
      // told as such instead of the browser silently starting a new sign-in.
      setCookie(sessionCookieName(deps.publicUrl()), token, { path: '/', secure: secure() }),
    ]);
    return reply.redirect(safeReturnPath(tx.returnTo), 303);
  });

  app.post('/logout', { preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    checkCsrf(deps, req, (req.body ?? {}) as Record<string, unknown>);
    await deps.sessions.end(s.session, 'logout', s.session.human);
    void reply.header('set-cookie', setCookie(sessionCookieName(deps.publicUrl()), '', { path: '/', secure: secure(), maxAge: 0 }));
    const atIdp = await deps.oidc.endSessionUrl(`${deps.publicUrl()}/console/signed-out`);
    return reply.redirect(atIdp ?? '/console/signed-out', 303);
  });

  // The IdP comes back here after RP-initiated logout, with parameters of its own.
  app.get('/signed-out', async (_req, reply) =>
    reply.type('text/html; charset=utf-8').send(page({ title: 'Signed out', body: html`<p>You are signed out of the Countersign console.</p><p><a href="/console/login">Sign in again</a></p>` })),
  );
}
