import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import { linkCodeHash } from '../services/chat-links.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import { html } from './console-html.js';
import { page } from './console-layout.js';
import { checkCsrf, sessionHook } from './console-plugin.js';

const codeParams = { type: 'object', additionalProperties: false, required: ['code'], properties: { code: { type: 'string', pattern: '^[A-Za-z0-9_-]{43}$' } } } as const;
const linkBody = { type: 'object', additionalProperties: false, properties: { _csrf: { type: 'string', maxLength: 64 } } } as const;

/**
 * Chat identity linking: a chat user opens the one-time link Countersign sent them,
 * signs in through the IdP, and confirms; the chat account is then bound to the
 * verified human (recorded in the audit log).
 */
export function registerLinkRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  const name = (c: string) => (c === 'slack' ? 'Slack' : 'Microsoft Teams');

  app.get('/link/:code', { schema: { params: codeParams, querystring: { type: 'object', additionalProperties: false, properties: {} } }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const { code } = req.params as { code: string };
    const offer = await deps.store.console.linkOffer(linkCodeHash(code), deps.clock.now().toISOString());
    if (!offer) throw new AppError('CHAT_LINK_INVALID');
    if (!s.session.known) throw new AppError('NOT_ELIGIBLE', 'You are not a configured reviewer: only configured humans can link a chat account');
    const body = html`<p>Link the ${name(offer.channel)} account <code>${offer.chatUserId}</code> to <strong>${s.session.human}</strong>?</p>
<p>Approvals you give from that chat account will then count as yours. Do this only if you opened this link from your own chat account.</p>
<form method="post" action="/console/link/${code}">
<input type="hidden" name="_csrf" value="${s.csrf}">
<button type="submit">Link my ${name(offer.channel)} account</button>
</form>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Link your chat account', signedIn: s, auditor: isAuditor(s, deps.auditorGroups), body }));
  });

  app.post('/link/:code', { schema: { params: codeParams, body: linkBody }, preValidation: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    checkCsrf(deps, req, (req.body ?? {}) as Record<string, unknown>);
    if (!s.session.known) throw new AppError('NOT_ELIGIBLE', 'You are not a configured reviewer: only configured humans can link a chat account');
    const { code } = req.params as { code: string };
    const link = await deps.store.console.claimLink(linkCodeHash(code), s.session.human, deps.clock.now().toISOString());
    if (!link) throw new AppError('CHAT_LINK_INVALID');
    req.log.info({ channel: link.channel, chatUserId: link.chatUserId, human: link.human }, 'chat account linked');
    const body = html`<div class="notice ok" role="status"><p>Your ${name(link.channel)} account <code>${link.chatUserId}</code> is now linked to ${link.human}.</p></div><p><a href="/console/inbox">Go to the inbox</a></p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Chat account linked', signedIn: s, auditor: isAuditor(s, deps.auditorGroups), body }));
  });
}
