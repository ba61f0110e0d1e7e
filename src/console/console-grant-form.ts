import type { ActionRecord } from '../domain/action-record.js';
import { AppError } from '../domain/errors.js';
import type { GrantAsk } from '../domain/grant.js';
import { grantOffer, grantOfferBounds, parseGrantAsk } from '../domain/grant-offer.js';
import type { Html } from './console-html.js';
import { html, untrustedLine } from './console-html.js';
import type { SignedIn } from './console-sessions.js';

export const GRANT_PATH_MAX = 2048;

/** The grant fields of the review form (strings, as browsers send them); checked by the review service. */
export const grantFormFields = {
  grant: { type: 'string', enum: ['yes'] },
  grantTtl: { type: 'string', maxLength: 32 },
  grantUses: { type: 'string', maxLength: 12 },
  grantPath: { type: 'string', maxLength: GRANT_PATH_MAX },
} as const;

export type GrantFormValues = {
  grant?: 'yes';
  grantTtl?: string;
  grantUses?: string;
  grantPath?: string;
};

/** The ask a submitted "Approve and grant" form makes; undefined for a plain review. Malformed input is VALIDATION_FAILED. */
export function grantAskOfForm(f: GrantFormValues): GrantAsk | undefined {
  if (f.grant !== 'yes') {
    if (f.grantTtl !== undefined || f.grantUses !== undefined || f.grantPath !== undefined) throw new AppError('VALIDATION_FAILED', 'grant fields come only with "Approve and grant"');
    return undefined;
  }
  const ask = parseGrantAsk(f.grantTtl, f.grantUses);
  const path = f.grantPath?.trim();
  return path ? { ...ask, path } : ask;
}

/**
 * "Approve and grant", next to the plain decision: the scope in the words every surface
 * uses (grant-offer.ts), the policy's bounds, and inputs prefilled to them. Shown only
 * when the policy allows a grant on this action; the review service checks it all again.
 */
export function grantForm(a: ActionRecord, s: SignedIn, commentMax: number): Html {
  const o = grantOffer(a);
  if (!o) return html``;
  const path = a.kind === 'http' ? (a.input as { path?: unknown }).path : undefined;
  return html`<h2 id="grant-heading">Approve and grant</h2>
<form method="post" action="/console/actions/${a.id}/review" class="decide grant" aria-labelledby="grant-heading">
<input type="hidden" name="_csrf" value="${s.csrf}">
<input type="hidden" name="fingerprint" value="${a.fingerprint}">
<input type="hidden" name="verdict" value="approve">
<input type="hidden" name="grant" value="yes">
<p>Approve this action (fingerprint <code>${a.fingerprint.slice(7, 19)}</code>) <strong>and</strong> approve in advance:</p>
<p id="grant-scope" class="scope">${untrustedLine(o.scope)}</p>
<p id="grant-bounds">${grantOfferBounds(o)} The grant needs the same quorum as the approval: it starts only once enough eligible reviewers asked for one.</p>
<label for="grant-ttl">For how long (at most ${o.maxTtl}; e.g. 30m, 1h)</label>
<input type="text" id="grant-ttl" name="grantTtl" value="${o.maxTtl}" required maxlength="32" autocomplete="off">
<label for="grant-uses">How many more actions (1 to ${o.maxUses})</label>
<input type="number" id="grant-uses" name="grantUses" value="${o.maxUses}" min="1" max="${o.maxUses}" required>
${
  o.paths.length && typeof path === 'string'
    ? html`<label for="grant-path">Path pattern (optional; each * is any one path segment; empty keeps the exact path)</label>
<input type="text" id="grant-path" name="grantPath" maxlength="${GRANT_PATH_MAX}" autocomplete="off" aria-describedby="grant-path-hint">
<p class="hint" id="grant-path-hint">The policy allows at most ${o.paths.join(' or ')}; the pattern must match this action's path ${untrustedLine(path)}.</p>`
    : ''
}
<label for="grant-comment">Comment (optional, shown to the requester and in the audit log)</label>
<textarea id="grant-comment" name="comment" rows="2" maxlength="${commentMax}"></textarea>
<div class="buttons"><button type="submit" class="approve">Approve and grant</button></div>
</form>`;
}

/** What the action's approval granted, on its page. */
export function grantCreatedNote(a: ActionRecord): Html {
  if (!a.grant) return html``;
  return html`<h2>Standing grant</h2>
<p id="grant-created">This approval created grant <a href="/console/grants#${a.grant.id}"><code>${a.grant.id}</code></a>: ${untrustedLine(a.grant.text)}.</p>`;
}
