import type { ReviewCard } from '../../../domain/review-card.js';
import { grantOfferBounds } from '../../../domain/grant-offer.js';

/**
 * An Adaptive Card 1.5 for a review request, with Universal Actions (Action.Execute)
 * Approve / Deny: the same content as the Slack message. Agent-supplied strings go in
 * TextRuns, which Teams never reads as markdown, so nothing can be injected.
 */

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';
export const APPROVE_VERB = 'countersign.approve';
export const DENY_VERB = 'countersign.deny';
export const REFRESH_VERB = 'countersign.refresh';
/** Approve + grant: the grant's ttl and uses come from the card's inputs `grantTtl` and `grantUses`. */
export const APPROVE_GRANT_VERB = 'countersign.approveGrant';

type Element = Record<string, unknown>;

const run = (text: string, extra: Record<string, unknown> = {}): Element => ({ type: 'TextRun', text, ...extra });
const rich = (inlines: Element[], extra: Record<string, unknown> = {}): Element => ({ type: 'RichTextBlock', inlines, ...extra });
const labelled = (label: string, value: string, mono = false): Element => rich([run(`${label}: `, { weight: 'Bolder' }), run(value, mono ? { fontType: 'Monospace' } : {})]);

const STATUS_COLOR: Record<string, string> = {
  pending: 'Warning',
  approved: 'Good',
  running: 'Accent',
  succeeded: 'Good',
  failed: 'Attention',
  denied: 'Attention',
  expired: 'Attention',
  cancelled: 'Default',
};

export function teamsCard(card: ReviewCard): Record<string, unknown> {
  const body: Element[] = [
    { type: 'TextBlock', text: 'Countersign review request', weight: 'Bolder', size: 'Medium', wrap: true },
    rich([run(card.title, { fontType: 'Monospace', weight: 'Bolder' })]),
    rich([run(card.statusLine, { weight: 'Bolder', color: STATUS_COLOR[card.status] ?? 'Default' })]),
    ...card.facts.map((f) => labelled(f.label, f.value)),
    { type: 'TextBlock', text: card.operation.truncated ? 'What will run (truncated: see Full detail)' : 'What will run', weight: 'Bolder', wrap: true, spacing: 'Medium' },
    rich([run(card.operation.text, { fontType: 'Monospace' })]),
  ];
  if (card.body) {
    const label = card.bodyLabel ?? 'Body / input';
    body.push({ type: 'TextBlock', text: card.body.truncated ? `${label} (truncated: see Full detail)` : label, weight: 'Bolder', wrap: true });
    body.push(rich([run(card.body.text, { fontType: 'Monospace' })]));
  }
  for (const s of card.sections ?? []) {
    body.push({ type: 'TextBlock', text: s.truncated ? `${s.heading} (truncated: see Full detail)` : s.heading, weight: 'Bolder', wrap: true });
    body.push(rich([run(s.text, s.code ? { fontType: 'Monospace' } : {})]));
  }
  if (card.justification) body.push(labelled(card.justification.truncated ? 'Justification (truncated)' : 'Justification', card.justification.text));
  body.push(labelled('Asked for review by', card.rules));
  body.push(labelled('Reason', card.reason));
  if (card.requirements.length) {
    body.push({ type: 'TextBlock', text: 'Requirements', weight: 'Bolder', wrap: true });
    for (const r of card.requirements) body.push(rich([run(r.line)]));
  }
  if (card.reviews.length) {
    body.push({ type: 'TextBlock', text: 'Reviews', weight: 'Bolder', wrap: true });
    for (const r of card.reviews) body.push(rich([run(r.line), ...(r.comment ? [run(`: ${r.comment}`, { italic: true })] : [])]));
  }
  const context = [`Fingerprint ${card.shortFingerprint}`, card.actionId];
  if (card.expiresAt) context.push(`${card.closed ? 'Expired' : 'Expires'} ${card.expiresAt}`);
  body.push(rich([run(context.join(' · '), { isSubtle: true, size: 'Small' })], { spacing: 'Medium' }));

  const data = { actionId: card.actionId, fingerprint: card.fingerprint };
  const actions: Element[] = [];
  if (!card.closed) {
    body.push({ type: 'Input.Text', id: 'reason', isMultiline: true, maxLength: 3000, placeholder: 'Reason (required to deny)', label: 'Reason' });
    const o = card.grantOffer;
    if (o) {
      // What "Approve + grant" covers, in plain words, and the bounds, before anyone clicks it.
      body.push({ type: 'TextBlock', text: 'Approve + grant: also approve in advance', weight: 'Bolder', wrap: true, spacing: 'Medium' });
      body.push(rich([run(o.scope)]));
      body.push(rich([run(grantOfferBounds(o), { isSubtle: true })]));
      body.push({ type: 'Input.Text', id: 'grantTtl', value: o.maxTtl, maxLength: 20, label: `For how long (at most ${o.maxTtl})` });
      body.push({ type: 'Input.Number', id: 'grantUses', value: o.maxUses, min: 1, max: o.maxUses, label: `How many uses (at most ${o.maxUses})` });
    }
    actions.push({ type: 'Action.Execute', title: 'Approve', verb: APPROVE_VERB, data, style: 'positive' });
    if (o) actions.push({ type: 'Action.Execute', title: 'Approve + grant', verb: APPROVE_GRANT_VERB, data });
    actions.push({ type: 'Action.Execute', title: 'Deny', verb: DENY_VERB, data, style: 'destructive' });
  }
  actions.push({ type: 'Action.OpenUrl', title: 'Full detail', url: card.link });
  return { type: 'AdaptiveCard', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', version: '1.5', body, actions };
}
