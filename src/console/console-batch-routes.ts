import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.js';
import type { Verdict } from '../domain/review.js';
import { MAX_BATCH, reviewBatch } from '../services/review-batch.js';
import type { BatchResult } from '../services/review-batch.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import { operationLine } from './console-format.js';
import type { Html } from './console-html.js';
import { html } from './console-html.js';
import { BATCH_PICK_PATTERN } from './console-inbox.js';
import { page } from './console-layout.js';
import { checkCsrf, sessionHook } from './console-plugin.js';
import type { SignedIn } from './console-sessions.js';

const COMMENT_MAX = 2000;
const pick = { type: 'string', pattern: BATCH_PICK_PATTERN } as const;
// _csrf is checked by the handler (a missing token is CSRF_INVALID, not a validation error).
const batchBody = {
  type: 'object',
  additionalProperties: false,
  required: ['verdict'],
  properties: {
    _csrf: { type: 'string', maxLength: 64 },
    verdict: { type: 'string', enum: ['approve', 'deny'] },
    comment: { type: 'string', maxLength: COMMENT_MAX },
    // One checked row is a string, several an array (form-decode.ts).
    pick: { anyOf: [pick, { type: 'array', minItems: 1, maxItems: MAX_BATCH, items: pick }] },
  },
} as const;

/** Under the inbox: decide the checked rows, each bound to the fingerprint its row showed. */
export function batchForm(s: SignedIn): Html {
  return html`<form method="post" action="/console/inbox/decide" id="batch" class="decide batch" aria-labelledby="batch-heading">
<h2 id="batch-heading">Decide the selected actions</h2>
<input type="hidden" name="_csrf" value="${s.csrf}">
<p class="hint">Each checked action is decided on its own, for the version its row shows (its fingerprint): the same checks as deciding it on its page, and its own audit entry. A refusal of one does not stop the others.</p>
<label for="batch-comment">Comment (required to deny; shown to the requesters and in the audit log)</label>
<textarea id="batch-comment" name="comment" rows="2" maxlength="${COMMENT_MAX}"></textarea>
<div class="buttons">
<button type="submit" name="verdict" value="approve" class="approve">Approve selected</button>
<button type="submit" name="verdict" value="deny" class="deny">Deny selected</button>
</div>
</form>`;
}

function outcome(status: string, verdict: Verdict): string {
  if (status === 'approved' || status === 'running' || status === 'succeeded' || status === 'failed') return `Approved (now ${status})`;
  if (status === 'denied') return 'Denied';
  return `${verdict === 'approve' ? 'Approval' : 'Denial'} recorded; the action is ${status}${status === 'pending' ? ' (more approvals needed)' : ''}`;
}

function resultRows(results: readonly BatchResult[], verdict: Verdict): Html {
  return html`${results.map((r) =>
    r.ok
      ? html`<tr data-id="${r.id}" class="ok"><td><a href="/console/actions/${r.id}">${operationLine(r.action)}</a><br><code>${r.id}</code></td><td>${outcome(r.action.status, verdict)}</td><td></td></tr>`
      : html`<tr data-id="${r.id}" class="bad"><td><a href="/console/actions/${r.id}">${r.id}</a></td><td>Refused: ${r.error.message}</td><td><code>${r.error.code}</code></td></tr>`,
  )}`;
}

/** Batch decisions from the inbox, through the same batch service as POST /v1/reviews. */
export function registerBatchPages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.post('/inbox/decide', { schema: { body: batchBody }, preValidation: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const form = req.body as { _csrf?: string; verdict: Verdict; comment?: string; pick?: string | string[] };
    checkCsrf(deps, req, form);
    if (!s.session.known) throw new AppError('NOT_ELIGIBLE', 'You are not a configured reviewer: your console view is read-only');
    const picks = form.pick === undefined ? [] : typeof form.pick === 'string' ? [form.pick] : form.pick;
    if (picks.length === 0) throw new AppError('VALIDATION_FAILED', 'Select at least one action to decide.');
    const comment = form.comment?.trim();
    if (form.verdict === 'deny' && !comment) throw new AppError('VALIDATION_FAILED', 'A denial needs a comment: say why, for the requesters.');
    const items = [...new Map(picks.map((p) => p.split('@') as [string, string])).entries()].map(([id, fingerprint]) => ({ id, fingerprint }));
    const results = await reviewBatch(deps.reviews, s.principal, { verdict: form.verdict, comment: comment || undefined, items, via: 'console-batch' });
    const done = results.filter((r) => r.ok).length;
    const body = html`<div class="notice ${done === results.length ? 'ok' : ''}" role="status" id="batch-summary"><p>${done} of ${results.length} ${form.verdict === 'approve' ? 'approvals' : 'denials'} recorded${done < results.length ? `; ${results.length - done} refused` : ''}.</p></div>
<table class="list" id="batch-results">
<caption class="sr-only">What happened to each selected action</caption>
<thead><tr><th scope="col">Action</th><th scope="col">Result</th><th scope="col">Code</th></tr></thead>
<tbody>${resultRows(results, form.verdict)}</tbody>
</table>
<p><a href="/console/inbox">Back to the inbox</a></p>`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Batch decision', signedIn: s, nav: 'inbox', auditor: isAuditor(s, deps.auditorGroups), body }));
  });
}
