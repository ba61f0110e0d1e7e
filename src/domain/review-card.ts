import type { HttpInput } from './action.js';
import { shortFingerprint } from './action.js';
import type { ActionRecord } from './action-record.js';
import { sqlPreviewOf } from './action-record.js';
import type { GrantOffer } from './grant-offer.js';
import { grantOffer } from './grant-offer.js';
import { commandFactLines, commandInputLines, commandLineText, commandPreviewLines, commandSummary } from './command-card.js';
import { partiesOf } from './lifecycle.js';
import { redactHeaders } from './redact.js';
import type { Review } from './review.js';
import { approversCounted, eligibleRefs } from './review.js';
import type { Status } from './status.js';
import { isFinal, unreachable } from './status.js';
import { sqlFactLines, sqlParamsText, sqlPreviewLines, sqlStatementText, sqlSummary } from './sql-card.js';
import { safeBlock, safeLine } from './visible-text.js';

/**
 * What a chat message shows about an action, whatever the channel: Slack and Teams
 * render this same model, so they always show the same content. Every string that came
 * from an agent is marked `untrusted` by living in `text` fields that renderers escape.
 */
export interface ReviewCard {
  actionId: string;
  /** e.g. `POST github /repos/acme/app/releases` */
  title: string;
  status: Status;
  /** One line: what state the action is in and why. */
  statusLine: string;
  /** True once the action can no longer be reviewed: no buttons. */
  closed: boolean;
  facts: Array<{ label: string; value: string }>;
  /**
   * What will run: method, target, path and query (the body follows). Cut text ends
   * with … and says so, so that padding cannot push part of a request out of sight.
   */
  operation: { text: string; truncated: boolean };
  body?: { text: string; truncated: boolean };
  /** What `body` holds, when not a request body or tool input (`Statement` for sql). */
  bodyLabel?: string;
  /** Kind-specific sections after the body, in order (sql: params, facts, preview). */
  sections?: CardSection[];
  justification?: { text: string; truncated: boolean };
  rules: string;
  reason: string;
  requirements: Array<{ ruleId: string; line: string }>;
  reviews: Array<{ line: string; comment?: string }>;
  expiresAt?: string;
  fingerprint: string;
  shortFingerprint: string;
  /** Where the full detail is (the console's detail page when the console is on, else the API's view). */
  link: string;
  /** While pending, when the policy allows a standing grant here: "Approve + grant" with its scope and bounds. */
  grantOffer?: GrantOffer;
}

export interface CardSection {
  heading: string;
  text: string;
  truncated: boolean;
  /** Shown monospaced, as code. */
  code: boolean;
}

export const CARD_LIMITS = { body: 2500, justification: 1500, path: 500, comment: 500, section: 2500 } as const;

/** Cuts text to at most `max` UTF-16 units without splitting a surrogate pair. */
export function truncateText(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return { text: text.slice(0, end), truncated: true };
}

/** truncateText, with the cut marked by a trailing … inside the limit. */
export function truncateMarked(text: string, max: number): { text: string; truncated: boolean } {
  if (text.length <= max) return { text, truncated: false };
  return { text: `${truncateText(text, max - 1).text}…`, truncated: true };
}

function operationOf(a: ActionRecord): { operation: string; body?: unknown; hasBody: boolean } {
  if (a.kind === 'http') {
    const h = a.input as unknown as HttpInput;
    const q = h.query ? `?${new URLSearchParams(Object.entries(h.query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]))).toString()}` : '';
    const headers = redactHeaders(h.headers);
    const line = `${h.method} ${a.target} ${h.path}${q}`;
    const extra = headers && Object.keys(headers).length ? { headers } : undefined;
    if (h.body === undefined && !extra) return { operation: line, hasBody: false };
    return { operation: line, body: extra ? { ...extra, body: h.body } : h.body, hasBody: true };
  }
  if (a.kind === 'sql') return { operation: sqlSummary(a.target, a.facts?.sql), body: sqlStatementText(a.input), hasBody: true };
  if (a.kind === 'command') return { operation: commandSummary(a.target, a.facts?.command, a.input), body: commandLineText(a.input), hasBody: true };
  return { operation: `${a.kind} ${a.target}`, body: a.input, hasBody: true };
}

/** A sql action's params, the facts policy saw and the dry-run preview. */
function sqlSections(a: ActionRecord): CardSection[] {
  const out: CardSection[] = [];
  const section = (heading: string, text: string, code: boolean) => out.push({ heading, ...truncateMarked(text, CARD_LIMITS.section), code });
  const params = sqlParamsText(a.input);
  if (params !== undefined) section('Params', params, true);
  if (a.facts?.sql) section('What policy saw', sqlFactLines(a.facts.sql).join('\n'), false);
  const preview = sqlPreviewOf(a);
  if (preview) section('Preview', sqlPreviewLines(preview).join('\n'), true);
  else if (a.status === 'pending') section('Preview', 'no preview for this action', false);
  return out;
}

/** A command's stdin and files, the facts policy saw and the dry run's output. */
function commandSections(a: ActionRecord): CardSection[] {
  const out: CardSection[] = [];
  const section = (heading: string, text: string, code: boolean) => out.push({ heading, ...truncateMarked(text, CARD_LIMITS.section), code });
  const sent = commandInputLines(a.input);
  if (sent.length) section('Stdin and files', sent.join('\n'), true);
  if (a.facts?.command) section('What policy saw', commandFactLines(a.facts.command).join('\n'), false);
  if (a.preview?.mode === 'command') section('Preview', commandPreviewLines(a.preview).join('\n'), true);
  else if (a.status === 'pending') section('Preview', 'no preview for this action', false);
  return out;
}

/** The directory a tool runs in, as the caller reported it (part of the fingerprint). */
function directoryOf(a: ActionRecord): string | undefined {
  return a.kind === 'tool' && typeof a.input.cwd === 'string' ? a.input.cwd : undefined;
}

function lastDeny(reviews: readonly Review[]): Review | undefined {
  return [...reviews].reverse().find((r) => r.verdict === 'deny');
}

export function statusLine(a: ActionRecord): string {
  const s = a.status;
  switch (s) {
    case 'pending':
      return 'Waiting for review';
    case 'approved':
      return a.decision.outcome === 'allow' ? 'Allowed by policy' : a.mode === 'execute' ? 'Approved: the gateway runs it now' : 'Approved: the agent may run it';
    case 'denied': {
      const d = a.review ? lastDeny(a.review.reviews) : undefined;
      return d ? `Denied by ${d.reviewer}` : 'Denied by policy';
    }
    case 'expired':
      return 'Expired: nobody decided in time';
    case 'cancelled':
      return 'Cancelled by the requester';
    case 'running':
      return 'Approved: running';
    case 'succeeded':
      return `Approved and executed: succeeded${a.result?.status !== undefined ? ` (HTTP ${a.result.status})` : ''}`;
    case 'failed': {
      const r = a.result;
      const why = r?.status !== undefined ? `HTTP ${r.status}` : (r?.error?.code ?? r?.reason ?? 'error');
      if (a.kind === 'command' && r?.exitCode !== undefined && !r.error) return `Approved and executed: failed (exit ${r.exitCode})`;
      return `Approved and executed: failed (${why})`;
    }
    default:
      return unreachable(s);
  }
}

/** Where a person opens an action: the web console's detail page when it is on, else the API's view. */
export function actionLink(publicUrl: string, id: string, consoleLinks = false): string {
  return `${publicUrl.replace(/\/$/, '')}${consoleLinks ? '/console/actions/' : '/v1/actions/'}${id}`;
}

export function reviewCard(a: ActionRecord, publicUrl: string, opts: { consoleLinks?: boolean } = {}): ReviewCard {
  const op = operationOf(a);
  const operation = safeLine(op.operation);
  const facts: ReviewCard['facts'] = [
    { label: 'Requester', value: a.requester.type === 'agent' ? `${a.requester.id} (agent)` : a.requester.id },
  ];
  if (a.requester.owner) facts.push({ label: 'Owner', value: a.requester.owner });
  if (a.onBehalfOf) facts.push({ label: 'On behalf of', value: safeLine(a.onBehalfOf) });
  facts.push({ label: 'Target', value: `${a.target} (${a.kind})` });
  const dir = directoryOf(a);
  if (dir !== undefined) facts.push({ label: 'Directory', value: safeLine(dir) });
  facts.push({ label: 'Mode', value: a.mode === 'execute' ? 'execute (the gateway runs it)' : 'decide (the agent runs it)' });
  const card: ReviewCard = {
    actionId: a.id,
    title: truncateMarked(operation, CARD_LIMITS.path).text,
    status: a.status,
    statusLine: statusLine(a),
    closed: a.status !== 'pending',
    facts,
    operation: truncateMarked(operation, CARD_LIMITS.path + 100),
    rules: a.decision.rules.join(', ') || '(default)',
    reason: a.decision.reason,
    requirements: [],
    reviews: [],
    fingerprint: a.fingerprint,
    shortFingerprint: shortFingerprint(a.fingerprint),
    link: actionLink(publicUrl, a.id, opts.consoleLinks),
  };
  if (op.hasBody) card.body = truncateMarked(safeBlock(typeof op.body === 'string' ? op.body : JSON.stringify(op.body, null, 2) ?? 'null'), CARD_LIMITS.body);
  if (a.kind === 'sql') {
    card.bodyLabel = 'Statement';
    card.sections = sqlSections(a);
  }
  if (a.kind === 'command') {
    card.bodyLabel = 'Command';
    card.sections = commandSections(a);
  }
  if (a.justification) card.justification = truncateMarked(safeBlock(a.justification), CARD_LIMITS.justification);
  // Every surface says when an approval also created a standing grant, or when a grant allowed this action.
  const grant = grantSection(a);
  if (grant) card.sections = [...(card.sections ?? []), grant];
  const offer = grantOffer(a);
  if (offer) card.grantOffer = offer;
  if (a.review) {
    const parties = partiesOf(a);
    for (const q of a.review.requirements) {
      const by = approversCounted(q, a.review.reviews, a.fingerprint, parties);
      const esc = q.escalate ? (q.escalate.done ? ` (escalated to ${q.escalate.to.join(', ')})` : ` (escalates to ${q.escalate.to.join(', ')} at ${q.escalate.at})`) : '';
      card.requirements.push({
        ruleId: q.ruleId,
        line: `${q.ruleId}: ${by.length}/${q.quorum} of ${eligibleRefs(q).join(', ')}${esc}${by.length ? ` — approved by ${by.join(', ')}` : ''}`,
      });
    }
    for (const r of a.review.reviews) {
      const review: { line: string; comment?: string } = { line: `${r.verdict === 'approve' ? 'Approved' : 'Denied'} by ${r.reviewer} via ${r.via} at ${r.at}` };
      if (r.comment) review.comment = truncateMarked(safeBlock(r.comment), CARD_LIMITS.comment).text;
      card.reviews.push(review);
    }
    if (!isFinal(a.status) || a.status === 'expired') card.expiresAt = a.review.expiresAt;
  }
  return card;
}

/** The text of the thread reply for one review. */
export function reviewReply(r: Review, a: ActionRecord): string {
  const verdict = r.verdict === 'approve' ? 'approved' : 'denied';
  return `${r.reviewer} ${verdict} via ${r.via}${r.comment ? `: ${truncateMarked(safeBlock(r.comment), CARD_LIMITS.comment).text}` : ''} (now ${a.status})`;
}

function grantSection(a: ActionRecord): CardSection | undefined {
  if (a.grant) {
    const text = `The approval also created standing grant ${a.grant.id}: ${a.grant.text}`;
    return { heading: 'Standing grant', ...truncateMarked(safeBlock(text), CARD_LIMITS.section), code: false };
  }
  if (a.decision.grant) {
    const text = `Allowed by standing grant ${a.decision.grant.id} (use ${a.decision.grant.use}) instead of a new review`;
    return { heading: 'Standing grant', text, truncated: false, code: false };
  }
  return undefined;
}
