import type { HttpInput } from '../domain/action.js';
import type { ActionRecord } from '../domain/action-record.js';
import { sqlPreviewOf } from '../domain/action-record.js';
import { commandFactLines, commandLineText, commandPreviewLines } from '../domain/command-card.js';
import { stillNeeded } from '../domain/console-eligibility.js';
import { partiesOf } from '../domain/lifecycle.js';
import { redactHeaders } from '../domain/redact.js';
import { isParty, requirementsFor } from '../domain/review.js';
import { statusLine } from '../domain/review-card.js';
import { sqlFactLines, sqlParamsText, sqlPreviewLines, sqlStatementText } from '../domain/sql-card.js';
import { textOf } from './console-format.js';
import type { Html } from './console-html.js';
import { html, untrustedBlock, untrustedLine } from './console-html.js';

const json = (v: unknown) => JSON.stringify(v, null, 2) ?? 'null';

/** What will run, rendered per kind; every string from the agent goes through untrusted*. */
export function inputSection(a: ActionRecord): Html {
  switch (a.kind) {
    case 'http': {
      const h = a.input as unknown as HttpInput;
      const query = h.query ? `?${new URLSearchParams(Object.entries(h.query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]))).toString()}` : '';
      const headers = redactHeaders(h.headers);
      return html`<h2>HTTP request</h2>
<p class="op">${untrustedLine(`${h.method} ${a.target} ${h.path}${query}`)}</p>
${headers && Object.keys(headers).length ? html`<h3>Headers</h3>${untrustedBlock(json(headers), 'Request headers')}` : ''}
${h.body !== undefined ? html`<h3>Body</h3>${untrustedBlock(typeof h.body === 'string' ? h.body : json(h.body), 'Request body')}` : html`<p>No body.</p>`}`;
    }
    case 'sql': {
      const params = sqlParamsText(a.input);
      const preview = sqlPreviewOf(a);
      return html`<h2>SQL statement</h2>
${untrustedBlock(sqlStatementText(a.input), 'SQL statement')}
${params !== undefined ? html`<h3>Params</h3>${untrustedBlock(params, 'Params')}` : ''}
${a.facts?.sql ? html`<h3>What policy saw</h3>${untrustedBlock(sqlFactLines(a.facts.sql).join('\n'), 'SQL facts')}` : ''}
<h3>Dry-run preview</h3>
${preview ? untrustedBlock(sqlPreviewLines(preview).join('\n'), 'Dry-run preview') : html`<p>No preview for this action.</p>`}`;
    }
    case 'command': {
      const preview = a.preview && !('statements' in a.preview) ? a.preview : undefined;
      const argv = Array.isArray((a.input as { argv?: unknown }).argv) ? ((a.input as { argv: unknown[] }).argv).map(String) : [];
      return html`<h2>Command</h2>
<p>On target ${a.target}</p>
<h3>Command line</h3>${untrustedBlock(commandLineText(a.input), 'Command line')}
<h3>Argv</h3><ol class="argv">${argv.map((x) => html`<li>${untrustedLine(x)}</li>`)}</ol>
${a.facts?.command ? html`<h3>What policy saw</h3>${untrustedBlock(commandFactLines(a.facts.command).join('\n'), 'Command facts')}` : ''}
<h3>Dry-run preview</h3>
${preview ? untrustedBlock(commandPreviewLines(preview).join('\n'), 'Dry-run preview') : html`<p>No preview for this action.</p>`}`;
    }
    case 'mcp': {
      const i = a.input as { tool?: unknown; arguments?: unknown };
      return html`<h2>MCP tool call</h2>
<p>Tool ${untrustedLine(textOf(i.tool))} on server ${a.target}</p>
<h3>Arguments</h3>${untrustedBlock(json(i.arguments ?? {}), 'Tool arguments')}`;
    }
    case 'tool': {
      const t = a.input as { tool?: unknown; input?: { command?: unknown; argv?: unknown }; cwd?: unknown };
      const cmd = t.input?.command;
      const argv = Array.isArray(t.input?.argv) ? (t.input.argv as unknown[]).map(String) : undefined;
      return html`<h2>Tool use</h2>
<p>Tool ${untrustedLine(textOf(t.tool))}${typeof t.cwd === 'string' ? html` in directory ${untrustedLine(t.cwd)}` : ''}</p>
${typeof cmd === 'string' ? html`<h3>Shell command</h3>${untrustedBlock(cmd, 'Shell command')}` : ''}
${argv ? html`<h3>Argv</h3><ol class="argv">${argv.map((x) => html`<li>${untrustedLine(x)}</li>`)}</ol>` : ''}
<h3>Input</h3>${untrustedBlock(json(t.input ?? {}), 'Tool input')}`;
    }
  }
}

/** Configured humans, other than the parties and those who already reviewed, whose review would count. */
export function othersWhoMayDecide(a: ActionRecord, humans: ReadonlyArray<{ id: string; groups: readonly string[] }>, me: string): string[] {
  if (!a.review || a.status !== 'pending') return [];
  const parties = partiesOf(a);
  const reviewed = new Set(a.review.reviews.map((r) => r.reviewer.toLowerCase()));
  return humans
    .filter((h) => h.id.toLowerCase() !== me.toLowerCase() && !reviewed.has(h.id.toLowerCase()) && !isParty(h.id, parties) && requirementsFor(h, a.review!.requirements).length > 0)
    .map((h) => h.id);
}

export function factsSection(a: ActionRecord, now: Date): Html {
  const rows: Array<[string, Html | string]> = [
    ['Status', statusLine(a)],
    ['Agent', a.requester.type === 'agent' ? a.requester.id : `${a.requester.id} (a human)`],
    ['Agent owner', a.requester.owner ?? '—'],
    ['On behalf of', a.onBehalfOf ? untrustedLine(a.onBehalfOf) : '—'],
    ['Target', `${a.target} (${a.kind})`],
    ['Mode', a.mode === 'execute' ? 'execute: the gateway runs it once approved' : 'decide: the agent runs it once approved'],
    ['Submitted', a.createdAt],
  ];
  if (a.review && a.status === 'pending') rows.push(['Expires', `${a.review.expiresAt} (in ${Math.max(0, Math.round((Date.parse(a.review.expiresAt) - now.getTime()) / 60_000))} min)`]);
  return html`<dl class="facts">${rows.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

export function policySection(a: ActionRecord): Html {
  const needed = stillNeeded(a);
  const escalation = (ruleId: string) => {
    const q = a.review?.requirements.find((r) => r.ruleId === ruleId);
    if (!q?.escalate) return '';
    return q.escalate.done ? ` (escalated to ${q.escalate.to.join(', ')})` : ` (escalates to ${q.escalate.to.join(', ')} at ${q.escalate.at})`;
  };
  return html`<h2>Policy</h2>
<p>Rules that fired: <strong>${a.decision.rules.join(', ') || '(default)'}</strong> (outcome ${a.decision.outcome}, policy ${a.decision.policyVersion.slice(0, 19)}…)</p>
<p>Policy's explanation: ${untrustedLine(a.decision.reason)}</p>
${needed.length ? html`<h3>Approvals needed</h3><ul>${needed.map((n) => html`<li>${n.ruleId}: ${n.approved} of ${n.quorum} from ${n.refs.join(', ')}${escalation(n.ruleId)}</li>`)}</ul>` : ''}`;
}

export function reviewsSection(a: ActionRecord): Html {
  const reviews = a.review?.reviews ?? [];
  if (!reviews.length) return html`<h2>Reviews so far</h2><p>None yet.</p>`;
  return html`<h2>Reviews so far</h2><ul class="reviews">${reviews.map(
    (r) => html`<li>${r.verdict === 'approve' ? 'Approved' : 'Denied'} by <strong>${r.reviewer}</strong> via ${r.via} at <time datetime="${r.at}">${r.at}</time>${r.fingerprint && r.fingerprint !== a.fingerprint ? ' (for another fingerprint)' : ''}${r.comment ? untrustedBlock(r.comment, `Comment by ${r.reviewer}`) : ''}</li>`,
  )}</ul>`;
}

