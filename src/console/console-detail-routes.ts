import type { FastifyInstance } from 'fastify';
import { reviewBlock } from '../domain/console-eligibility.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Verdict } from '../domain/review.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import { factsSection, inputSection, othersWhoMayDecide, policySection, reviewsSection } from './console-detail-view.js';
import { idParams, operationLine } from './console-format.js';
import { html, untrustedBlock } from './console-html.js';
import { errorPage, page } from './console-layout.js';
import type { GrantFormValues } from './console-grant-form.js';
import { grantAskOfForm, grantCreatedNote, grantForm, grantFormFields } from './console-grant-form.js';
import type { SignedIn } from './console-sessions.js';
import { checkCsrf, sessionHook } from './console-plugin.js';
import type { ActionRecord } from '../domain/action-record.js';

const COMMENT_MAX = 2000;

const detailQuery = { type: 'object', additionalProperties: false, properties: { done: { type: 'string', enum: ['approve', 'deny', 'grant'] } } } as const;
// _csrf is checked by the handler (a missing token is CSRF_INVALID, not a validation error).
const reviewBody = {
  type: 'object',
  additionalProperties: false,
  required: ['verdict', 'fingerprint'],
  properties: {
    _csrf: { type: 'string', maxLength: 64 },
    verdict: { type: 'string', enum: ['approve', 'deny'] },
    fingerprint: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    comment: { type: 'string', maxLength: COMMENT_MAX },
    ...grantFormFields,
  },
} as const;

function decisionSection(a: ActionRecord, s: SignedIn): ReturnType<typeof html> {
  if (!s.session.known) return html`<p class="notice" role="note">You are not a configured reviewer: this view is read-only.</p>`;
  if (a.status !== 'pending') return html`<p class="notice" role="note">This action is no longer pending: there is nothing to decide.</p>`;
  const block = reviewBlock(s.principal, a);
  if (block) {
    const why =
      block.code === 'SELF_APPROVAL'
        ? 'You requested this action, it acts on your behalf, or you own the agent that asked: separation of duties keeps you from deciding it.'
        : block.code === 'ALREADY_REVIEWED'
          ? 'You have already reviewed this action.'
          : block.code === 'NOT_ELIGIBLE'
            ? 'You are not an eligible reviewer: the rules that fired name neither you nor a group of yours.'
            : block.message;
    return html`<div class="notice" role="note" id="no-decision"><p><strong>You cannot decide this action.</strong> ${why}</p><p class="code">Reason code: <code>${block.code}</code></p></div>`;
  }
  return html`<h2 id="decide-heading">Your decision</h2>
<form method="post" action="/console/actions/${a.id}/review" class="decide" aria-labelledby="decide-heading">
<input type="hidden" name="_csrf" value="${s.csrf}">
<input type="hidden" name="fingerprint" value="${a.fingerprint}">
<p>You are deciding the version with fingerprint <code>${a.fingerprint.slice(7, 19)}</code>; if the action changes meanwhile, your decision is refused.</p>
<label for="comment">Comment (optional, shown to the requester and in the audit log)</label>
<textarea id="comment" name="comment" rows="3" maxlength="${COMMENT_MAX}"></textarea>
<div class="buttons">
<button type="submit" name="verdict" value="approve" class="approve">Approve</button>
<button type="submit" name="verdict" value="deny" class="deny">Deny</button>
</div>
</form>
${grantForm(a, s, COMMENT_MAX)}`;
}

const doneText = { approve: 'Your approval was recorded.', deny: 'Your denial was recorded.', grant: 'Your approval and your grant were recorded.' } as const;

export function registerDetailRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/actions/:id', { schema: { params: idParams, querystring: detailQuery }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const { id } = req.params as { id: string };
    const { done } = req.query as { done?: keyof typeof doneText };
    const a = await deps.queries.get(s.principal, id);
    const now = deps.clock.now();
    const others = othersWhoMayDecide(a, deps.humans, s.session.human);
    const seqs = a.auditSeqs ?? [];
    const body = html`${done ? html`<div class="notice ok" role="status" id="done"><p>${doneText[done]}${done === 'grant' && a.status === 'pending' ? ' The grant starts once the approval reaches its quorum with reviewers who also grant.' : ''}</p></div>` : ''}
<p id="live" class="live" role="status" aria-live="polite" data-live="action" data-id="${a.id}"></p>
<p class="op-title">${operationLine(a)}</p>
${factsSection(a, now)}
${a.justification !== undefined ? html`<h2>Justification</h2><p class="hint">Written by the agent: untrusted text, control and direction characters shown as \\uXXXX.</p>${untrustedBlock(a.justification, 'Justification')}` : html`<h2>Justification</h2><p>The agent gave none.</p>`}
${policySection(a)}
<h2>Fingerprint</h2>
<p><code class="fingerprint">${a.fingerprint}</code></p>
${inputSection(a)}
${reviewsSection(a)}
${grantCreatedNote(a)}
${a.status === 'pending' ? html`<h2>Who else may decide</h2><p>${others.length ? others.join(', ') : 'No other configured human (reviewers known only through the identity provider may still decide).'}</p>` : ''}
${decisionSection(a, s)}
<h2>Audit</h2>
<p>${seqs.length ? html`Entries ${seqs.join(', ')} of the audit log. <a href="/console/actions/${a.id}/verify">Verify their inclusion in your browser</a>` : 'No audit entries yet.'}</p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: `Action ${a.id}`, signedIn: s, nav: 'inbox', auditor: isAuditor(s, deps.auditorGroups), body, scripts: ['live.js'] }));
  });

  app.post('/actions/:id/review', { schema: { params: idParams, body: reviewBody }, preValidation: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const form = req.body as { _csrf?: string; verdict: Verdict; fingerprint: string; comment?: string } & GrantFormValues;
    checkCsrf(deps, req, form);
    const { id } = req.params as { id: string };
    const back = { href: `/console/actions/${id}`, label: 'Back to the action' };
    if (!s.session.known) throw new AppError('NOT_ELIGIBLE', 'You are not a configured reviewer: your console view is read-only');
    const current = await deps.queries.get(s.principal, id);
    if (current.fingerprint !== form.fingerprint) {
      throw new AppError('FINGERPRINT_MISMATCH', 'The action changed since this page was shown: nothing was recorded. Open it again to see what it asks now.');
    }
    const comment = form.comment?.trim();
    let grant;
    try {
      grant = grantAskOfForm(form);
      await deps.reviews.review(s.principal, id, { verdict: form.verdict, fingerprint: form.fingerprint, ...(comment ? { comment } : {}), via: 'console', grant });
    } catch (e) {
      if (!isAppError(e) || e.status >= 500) throw e;
      const message = e.code === 'NOT_PENDING' ? 'The action was decided or expired meanwhile: nothing was recorded.' : `${e.message.replace(/\.$/, '')}. Nothing was recorded.`;
      // Refusals (separation of duties, a grant beyond the policy's bounds...) leave the reviewer one step from the action.
      return reply.status(e.status).type('text/html; charset=utf-8').send(errorPage(e.code, message, s, back));
    }
    return reply.redirect(`/console/actions/${id}?done=${grant ? 'grant' : form.verdict}`, 303);
  });

  // In-browser verification of the action's receipt: its entries' inclusion proofs against the latest checkpoint.
  app.get('/actions/:id/verify', { schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: {} } }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const { id } = req.params as { id: string };
    await deps.queries.get(s.principal, id);
    const body = html`<p>Your browser checks, with no help from the gateway's verdict: the latest checkpoint is signed by the log's key; each entry's bytes hash to its leaf; each inclusion proof leads from that leaf to the checkpoint's root (RFC 9162, C2SP tlog-checkpoint).</p>
<p>Log verifier keys: ${deps.verifierKeys.map((k) => html`<code>${k}</code> `)}</p>
<div id="verify" data-receipt="/console/api/actions/${id}/receipt" data-keys="${deps.verifierKeys.join(' ')}">
<p id="verdict" class="verdict" role="status" aria-live="polite">Verifying…</p>
<ol id="checks"></ol>
</div>
<p><a href="/console/actions/${id}">Back to the action</a></p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: `Verify ${id}`, signedIn: s, auditor: isAuditor(s, deps.auditorGroups), body, scripts: ['verify.js'] }));
  });

  app.get('/api/actions/:id/receipt', { schema: { params: idParams, querystring: { type: 'object', additionalProperties: false, properties: {} } }, preHandler: sessionHook(deps, 'json') }, async (req) => {
    const s = req.consoleUser!;
    const { id } = req.params as { id: string };
    return deps.audit.receipt(s.principal, id);
  });
}
