import type { FastifyInstance } from 'fastify';
import { canView } from '../domain/action-access.js';
import { isAuditor, sessionCookieName } from './console-context.js';
import { readCookie } from './console-cookies.js';
import type { ConsoleDeps } from './console-context.js';
import { CURSOR_PATTERN, cursorText, parseCursor } from './console-format.js';
import { html } from './console-html.js';
import { batchForm } from './console-batch-routes.js';
import { inboxPage, inboxRows } from './console-inbox.js';
import { page } from './console-layout.js';
import { sessionHook } from './console-plugin.js';

const inboxQuery = { type: 'object', additionalProperties: false, properties: { before: { type: 'string', pattern: CURSOR_PATTERN } } } as const;

/** How often an idle event stream says it is alive (proxies close silent connections) and re-checks its session. */
const HEARTBEAT_MS = 20_000;

export function registerInboxRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const pageSize = deps.config.pageSize;
  // Open event streams end when the server closes, instead of holding it open.
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    for (const close of streams) close();
    done();
  });

  app.get('/inbox', { schema: { querystring: inboxQuery }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const { before } = req.query as { before?: string };
    const r = await inboxPage(deps.store, s.principal, s.session.known, pageSize, parseCursor(before));
    const unknown = s.session.known
      ? ''
      : html`<div class="notice" role="status"><p><strong>You are signed in as ${s.session.human}, who is not a configured reviewer.</strong> This view is read-only and empty: ask an administrator to add you to <code>humans</code> (or to <code>console.oidc.mapping</code>) in the gateway's configuration.</p></div>`;
    const body = html`${unknown}
<p id="live" class="live" role="status" aria-live="polite">Pending actions you may decide, newest first. This list updates live.</p>
<table class="list" id="inbox" data-live="inbox">
<caption class="sr-only">Pending actions you may decide</caption>
<thead><tr><th scope="col"><span class="sr-only">Select</span></th><th scope="col">Action</th><th scope="col">Agent</th><th scope="col">Target</th><th scope="col">Kind</th><th scope="col">Rule</th><th scope="col">Age</th><th scope="col">Time left</th></tr></thead>
<tbody id="inbox-rows">${inboxRows(r.rows, deps.clock.now())}</tbody>
</table>
${r.next ? html`<p class="pager"><a href="/console/inbox?before=${cursorText(r.next)}">Older pending actions</a></p>` : ''}
${s.session.known ? batchForm(s) : ''}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Inbox', signedIn: s, nav: 'inbox', auditor: isAuditor(s, deps.auditorGroups), body, scripts: ['live.js'] }));
  });

  // The rows alone, for the live update (same query, same rules).
  app.get('/inbox/rows', { schema: { querystring: inboxQuery }, preHandler: sessionHook(deps, 'json') }, async (req, reply) => {
    const s = req.consoleUser!;
    const { before } = req.query as { before?: string };
    const r = await inboxPage(deps.store, s.principal, s.session.known, pageSize, parseCursor(before));
    return reply.type('text/html; charset=utf-8').send(inboxRows(r.rows, deps.clock.now()).value);
  });

  /**
   * Server-sent events: one `action` event (id and status, nothing more) whenever an
   * action this human may read changes on any replica (on PostgreSQL the others are told
   * by NOTIFY): submitted, reviewed (here, in chat, from the CLI or the API), expired, executed.
   */
  app.get('/events', { schema: { querystring: { type: 'object', additionalProperties: false, properties: {} } }, preHandler: sessionHook(deps, 'json') }, (req, reply) => {
    const s = req.consoleUser!;
    const who = s.principal;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const unsubscribe = deps.events.subscribe((e) => {
      if (!canView(who, e.action, s.session.known ? deps.auditorGroups : [])) return;
      res.write(`event: action\ndata: ${JSON.stringify({ id: e.action.id, status: e.action.status })}\n\n`);
    });
    const close = () => {
      streams.delete(close);
      clearInterval(beat);
      unsubscribe();
      if (!res.writableEnded) res.end();
    };
    const token = req.headers.cookie;
    const beat = setInterval(() => {
      void deps.sessions
        .resolve(readSessionToken(deps, token))
        .then((r) => (r.ok ? void res.write(': alive\n\n') : close()))
        .catch(() => close());
    }, HEARTBEAT_MS);
    streams.add(close);
    req.raw.on('close', close);
  });
}

function readSessionToken(deps: ConsoleDeps, cookieHeader: string | undefined): string | undefined {
  return readCookie(cookieHeader, sessionCookieName(deps.publicUrl()));
}
