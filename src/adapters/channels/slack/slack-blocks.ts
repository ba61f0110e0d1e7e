import type { ReviewCard } from '../../../domain/review-card.js';
import { truncateText } from '../../../domain/review-card.js';
import type { GrantOffer } from '../../../domain/grant-offer.js';
import { grantOfferBounds } from '../../../domain/grant-offer.js';

/** Block Kit for a review request. Every agent-supplied string is escaped: no mention, link or markup can be injected. */

export const APPROVE_ACTION = 'countersign_approve';
export const DENY_ACTION = 'countersign_deny';
export const DENY_CALLBACK = 'countersign_deny_reason';
/** Approve + grant: the button opens a modal with the grant's scope and bounds. */
export const APPROVE_GRANT_ACTION = 'countersign_approve_grant';
export const GRANT_CALLBACK = 'countersign_approve_grant';

/** What a button carries: the action id and the fingerprint the message was rendered for. */
export interface ButtonValue {
  a: string;
  f: string;
}

type Block = Record<string, unknown>;

const SECTION_MAX = 3000;
/** Slack's limit for a confirmation dialog's text. */
const CONFIRM_MAX = 300;

/** Slack's three control characters (mrkdwn and plain): &, <, >. */
export function escapeMrkdwn(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Text inside a code block: escaped, and a ``` in it cannot close the block early. */
function codeBlock(s: string): string {
  return '```' + escapeMrkdwn(s).replace(/```/g, '`\u200b``') + '```';
}

/** Cuts escaped text to `max` without splitting an entity or a surrogate pair. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const amp = s.lastIndexOf('&', end);
  if (amp >= 0 && amp > end - 5 && s.indexOf(';', amp) >= end) end = amp;
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${s.slice(0, end)}…`;
}

function mrkdwn(text: string): Block {
  return { type: 'section', text: { type: 'mrkdwn', text: clip(text, SECTION_MAX) } };
}

const STATUS_ICON: Record<string, string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  running: ':gear:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  denied: ':no_entry:',
  expired: ':alarm_clock:',
  cancelled: ':heavy_multiplication_x:',
};

/**
 * render(text), cut from the source until it fits `room` characters: escaping lengthens
 * text unevenly (& is five characters once escaped), so the source is cut, with a
 * visible …, never the rendered markup (which would lose the end of a code block and
 * any sign that something is missing).
 */
function fit(text: string, room: number, render: (s: string) => string): { text: string; cut: boolean } {
  let out = render(text);
  if (out.length <= room) return { text: out, cut: false };
  for (let n = text.length; out.length > room && n > 0; ) {
    n = Math.max(0, Math.min(n - 1, Math.floor((n * room) / out.length) - 1));
    out = render(`${truncateText(text, n).text}…`);
  }
  return { text: out, cut: true };
}

/** The Approve confirmation (Slack allows 300 characters): the fingerprint, then the operation. */
function confirmText(card: ReviewCard): string {
  const head = `You approve fingerprint \`${card.shortFingerprint}\`, the action in this message:\n`;
  return head + fit(card.operation.text, CONFIRM_MAX - head.length, codeBlock).text;
}

/** A section's room for its content, after its heading and link. */
const CONTENT_MAX = SECTION_MAX - 300;

export function slackMessage(card: ReviewCard): { text: string; blocks: Block[] } {
  const e = escapeMrkdwn;
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(`Review: ${card.title}`, 150), emoji: false } },
    mrkdwn(`${STATUS_ICON[card.status] ?? ''} *${e(card.statusLine)}*`),
    { type: 'section', fields: card.facts.slice(0, 10).map((f) => ({ type: 'mrkdwn', text: clip(`*${e(f.label)}*\n${e(f.value)}`, 2000) })) },
  ];
  const truncated = ` (truncated: <${card.link}|full detail>)`;
  const op = fit(card.operation.text, CONTENT_MAX, codeBlock);
  blocks.push(mrkdwn(`*What will run*${card.operation.truncated || op.cut ? truncated : ''}\n${op.text}`));
  if (card.body) {
    const body = fit(card.body.text, CONTENT_MAX, codeBlock);
    blocks.push(mrkdwn(`*${e(card.bodyLabel ?? 'Body / input')}*${card.body.truncated || body.cut ? truncated : ''}\n${body.text}`));
  }
  for (const s of card.sections ?? []) {
    const text = fit(s.text, CONTENT_MAX, s.code ? codeBlock : e);
    blocks.push(mrkdwn(`*${e(s.heading)}*${s.truncated || text.cut ? truncated : ''}\n${text.text}`));
  }
  if (card.justification) {
    const why = fit(card.justification.text, CONTENT_MAX, (t) => `>${e(t).replace(/\n/g, '\n>')}`);
    blocks.push(mrkdwn(`*Justification*${card.justification.truncated || why.cut ? truncated : ''}\n${why.text}`));
  }
  blocks.push(mrkdwn(`*Asked for review by* ${e(card.rules)}\n*Reason:* ${e(card.reason)}`));
  if (card.requirements.length) blocks.push(mrkdwn(`*Requirements*\n${card.requirements.map((r) => `• ${e(r.line)}`).join('\n')}`));
  if (card.reviews.length) {
    blocks.push(mrkdwn(`*Reviews*\n${card.reviews.map((r) => `• ${e(r.line)}${r.comment ? `: _${e(r.comment)}_` : ''}`).join('\n')}`));
  }
  const context = [`Fingerprint \`${card.shortFingerprint}\``, `<${card.link}|${card.actionId}>`];
  if (card.expiresAt) context.push(`${card.closed ? 'Expired' : 'Expires'} <!date^${Math.floor(Date.parse(card.expiresAt) / 1000)}^{date_short_pretty} {time}|${card.expiresAt}>`);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join(' · ') }] });
  if (!card.closed) {
    const value = JSON.stringify({ a: card.actionId, f: card.fingerprint } satisfies ButtonValue);
    blocks.push({
      type: 'actions',
      block_id: 'countersign_review',
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Approve this action?' },
            text: { type: 'mrkdwn', text: confirmText(card) },
            confirm: { type: 'plain_text', text: 'Approve' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
        ...(card.grantOffer ? [{ type: 'button', action_id: APPROVE_GRANT_ACTION, text: { type: 'plain_text', text: 'Approve + grant…' }, value }] : []),
        { type: 'button', action_id: DENY_ACTION, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value },
      ],
    });
  }
  return { text: clip(`${card.statusLine}: ${card.title}`, 3000), blocks };
}

/** The modal that asks for a reason before denying. */
export function denyModal(card: { actionId: string; fingerprint: string; title: string }, where: { channel: string; ts?: string }): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: DENY_CALLBACK,
    private_metadata: JSON.stringify({ a: card.actionId, f: card.fingerprint, c: where.channel }),
    title: { type: 'plain_text', text: 'Deny action' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`Deny ${codeBlock(card.title)}`, SECTION_MAX) } },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason (recorded in the audit log)' },
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, min_length: 1, max_length: 3000 },
      },
    ],
  };
}

/**
 * The Approve + grant modal: the action, the grant's scope in plain words and the
 * policy's bounds, then how long and how many uses (prefilled with the bounds).
 */
export function grantModal(card: Pick<ReviewCard, 'actionId' | 'fingerprint' | 'title' | 'shortFingerprint'> & { grantOffer: GrantOffer }, where: { channel: string }): Record<string, unknown> {
  const o = card.grantOffer;
  return {
    type: 'modal',
    callback_id: GRANT_CALLBACK,
    private_metadata: JSON.stringify({ a: card.actionId, f: card.fingerprint, c: where.channel }),
    title: { type: 'plain_text', text: 'Approve + grant' },
    submit: { type: 'plain_text', text: 'Approve + grant' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(`You approve fingerprint \`${card.shortFingerprint}\`: ${codeBlock(card.title)}`, SECTION_MAX) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(`*and grant approval in advance for:* ${escapeMrkdwn(o.scope)}\n${escapeMrkdwn(grantOfferBounds(o))}`, SECTION_MAX) } },
      {
        type: 'input',
        block_id: 'ttl',
        label: { type: 'plain_text', text: `For how long (at most ${o.maxTtl})` },
        element: { type: 'plain_text_input', action_id: 'ttl', initial_value: o.maxTtl, max_length: 20 },
      },
      {
        type: 'input',
        block_id: 'uses',
        label: { type: 'plain_text', text: `How many uses (at most ${o.maxUses})` },
        element: { type: 'number_input', action_id: 'uses', is_decimal_allowed: false, initial_value: String(o.maxUses), min_value: '1', max_value: String(o.maxUses) },
      },
    ],
  };
}
