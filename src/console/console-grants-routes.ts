import type { FastifyInstance } from 'fastify';
import { maySeeGrant, mayRevokeGrant } from '../domain/grant-access.js';
import { AppError } from '../domain/errors.js';
import type { GrantView } from '../services/grant-service.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import type { Html } from './console-html.js';
import { html, untrustedLine } from './console-html.js';
import { page } from './console-layout.js';
import { checkCsrf, sessionHook } from './console-plugin.js';
import type { SignedIn } from './console-sessions.js';

/** Most grants read for the page (newest first). */
const LIST_LIMIT = 500;
const REASON_MAX = 2000;
const GRANT_ID = '^grt_[A-Za-z0-9_-]{8,64}$';

const grantParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: GRANT_ID } } } as const;
const listQuery = { type: 'object', additionalProperties: false, properties: { revoked: { type: 'string', pattern: GRANT_ID } } } as const;
// _csrf is checked by the handler (a missing token is CSRF_INVALID, not a validation error).
const revokeBody = {
  type: 'object',
  additionalProperties: false,
  properties: { _csrf: { type: 'string', maxLength: 64 }, confirm: { type: 'string', enum: ['yes'] }, reason: { type: 'string', maxLength: REASON_MAX } },
} as const;

type Human = Extract<SignedIn['principal'], { type: 'human' }>;
const human = (s: SignedIn): Human | undefined => (s.session.known && s.principal.type === 'human' ? s.principal : undefined);

const ENDED_WORDS: Record<Exclude<GrantView['status'], 'active'>, string> = {
  expired: 'expired',
  'used-up': 'used up',
  revoked: 'revoked',
  ended: 'ended by a policy change',
};

function endedLine(g: GrantView): string {
  if (g.status === 'active') return 'active';
  const by = g.status === 'revoked' && g.revokedBy ? ` by ${g.revokedBy}` : '';
  const at = g.revokedAt ?? g.endedAt;
  return `${ENDED_WORDS[g.status]}${by}${at ? ` at ${at}` : ''}`;
}

function revokeButton(g: GrantView, s: SignedIn, who: Human): Html {
  if (g.status !== 'active' || !mayRevokeGrant(who, g)) return html``;
  return html`<form method="post" action="/console/grants/${g.id}/revoke" class="inline">
<input type="hidden" name="_csrf" value="${s.csrf}">
<button type="submit" class="deny" aria-label="Revoke grant ${g.id}">Revoke…</button>
</form>`;
}

function grantRows(grants: readonly GrantView[], s: SignedIn, who: Human, active: boolean): Html {
  if (grants.length === 0) return html`<tr><td colspan="${active ? 7 : 6}" class="empty">${active ? 'No active grant you may see.' : 'No ended grant you may see.'}</td></tr>`;
  return html`${grants.map(
    (g) => html`<tr id="${g.id}" data-id="${g.id}">
  <td><code>${g.id}</code><br>from <a href="/console/actions/${g.actionId}">${g.actionId}</a></td>
  <td>${untrustedLine(g.text)}</td>
  <td>${Math.max(0, g.maxUses - g.uses)} of ${g.maxUses}</td>
  <td><time datetime="${g.expiresAt}">${g.expiresAt}</time></td>
  <td>${g.grantedBy.join(', ')}</td>
  <td>${endedLine(g)}${g.revokeReason ? html`: ${untrustedLine(g.revokeReason)}` : ''}</td>
  ${active ? html`<td>${revokeButton(g, s, who)}</td>` : ''}
</tr>`,
  )}`;
}

function grantTable(id: string, caption: string, grants: readonly GrantView[], s: SignedIn, who: Human, active: boolean): Html {
  return html`<table class="list" id="${id}">
<caption class="sr-only">${caption}</caption>
<thead><tr><th scope="col">Grant</th><th scope="col">Covers</th><th scope="col">Uses left</th><th scope="col">Expires</th><th scope="col">Granted by</th><th scope="col">Status</th>${active ? html`<th scope="col">Revoke</th>` : ''}</tr></thead>
<tbody>${grantRows(grants, s, who, active)}</tbody>
</table>`;
}

/** Standing grants (docs/console.md, "Grants"): read through the grant service, revoked through it (audited there). */
export function registerGrantPages(app: FastifyInstance, deps: ConsoleDeps): void {
  const visible = async (who: Human) => (await deps.grants.list(who, { limit: LIST_LIMIT })).filter((g) => maySeeGrant(who, g, deps.auditorGroups));
  const send = (s: SignedIn, title: string, body: Html) => page({ title, signedIn: s, nav: 'grants', auditor: isAuditor(s, deps.auditorGroups), body });

  app.get('/grants', { schema: { querystring: listQuery }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const who = human(s);
    const { revoked } = req.query as { revoked?: string };
    if (!who) {
      const body = html`<div class="notice" role="status"><p>You are signed in as ${s.session.human}, who is not a configured reviewer: there are no grants to show you.</p></div>`;
      return reply.type('text/html; charset=utf-8').send(send(s, 'Grants', body));
    }
    const all = await visible(who);
    const active = all.filter((g) => g.status === 'active');
    const ended = all.filter((g) => g.status !== 'active');
    const body = html`${revoked ? html`<div class="notice ok" role="status" id="done"><p>Grant <code>${revoked}</code> was revoked: it covers no further action.</p></div>` : ''}
<p>Standing grants approve in advance, for a while and a number of uses, actions like one that was approved. Shown here: the grants you gave, those over rules you may approve${isAuditor(s, deps.auditorGroups) ? ', and, as an auditor, all others' : ''}.</p>
<h2 id="active-heading">Active</h2>
${grantTable('grants-active', 'Active grants', active, s, who, true)}
<h2 id="ended-heading">Ended</h2>
${grantTable('grants-ended', 'Ended grants: expired, used up, revoked or ended by a policy change', ended, s, who, false)}`;
    return reply.type('text/html; charset=utf-8').send(send(s, 'Grants', body));
  });

  // Without confirm=yes: the confirmation page. With it: the revocation, through the grant service.
  app.post('/grants/:id/revoke', { schema: { params: grantParams, body: revokeBody }, preValidation: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const form = (req.body ?? {}) as { _csrf?: string; confirm?: 'yes'; reason?: string };
    checkCsrf(deps, req, form);
    const who = human(s);
    if (!who) throw new AppError('NOT_ELIGIBLE', 'You are not a configured reviewer: your console view is read-only');
    const { id } = req.params as { id: string };
    if (form.confirm !== 'yes') {
      const g = await deps.grants.get(who, id);
      if (!maySeeGrant(who, g, deps.auditorGroups)) throw new AppError('GRANT_NOT_FOUND', `No grant ${id}`);
      const body = html`<p>Revoke grant <code>${g.id}</code>? It covers:</p>
<p class="scope">${untrustedLine(g.text)}</p>
<p>${Math.max(0, g.maxUses - g.uses)} of ${g.maxUses} uses left, until <time datetime="${g.expiresAt}">${g.expiresAt}</time>; granted by ${g.grantedBy.join(', ')}. Once revoked, the next matching action goes to review again.</p>
<form method="post" action="/console/grants/${g.id}/revoke" class="decide" aria-labelledby="confirm-heading">
<h2 id="confirm-heading">Confirm</h2>
<input type="hidden" name="_csrf" value="${s.csrf}">
<input type="hidden" name="confirm" value="yes">
<label for="reason">Reason (optional, in the audit log)</label>
<textarea id="reason" name="reason" rows="2" maxlength="${REASON_MAX}"></textarea>
<div class="buttons"><button type="submit" class="deny">Revoke grant</button> <a href="/console/grants">Keep it</a></div>
</form>`;
      return reply.type('text/html; charset=utf-8').send(send(s, 'Revoke a grant', body));
    }
    const reason = form.reason?.trim();
    await deps.grants.revoke(who, id, reason ? reason : undefined);
    return reply.redirect(`/console/grants?revoked=${id}`, 303);
  });
}
