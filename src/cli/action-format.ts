import type { Action } from '../client/types.js';
import { sqlFactLines, sqlParamsText, sqlPreviewLines, sqlStatementText, sqlSummary } from '../domain/sql-card.js';
import { safeBlock, safeLine } from '../domain/visible-text.js';
import { commandFactLines, commandInputLines, commandLineText, commandPreviewLines, commandSummary } from '../domain/command-card.js';

const MAX_BODY = 2000;

function block(text: string, max = MAX_BODY): string {
  return safeBlock(text.length > max ? `${text.slice(0, max)}\n… (${text.length - max} more characters)` : text);
}

/** What an approver must see before approving: what will run, on what, for whom, why, which rule asked, and the fingerprint. */
export function formatAction(a: Action): string {
  const lines: string[] = [];
  lines.push(`Action ${a.id}  [${a.status}]`);
  lines.push(`  requester:   ${a.requester.type} ${a.requester.id}${a.requester.owner ? ` (owner ${a.requester.owner})` : ''}`);
  if (a.onBehalfOf) lines.push(`  for:         ${a.onBehalfOf}`);
  lines.push(`  target:      ${a.target} (${a.kind}, mode ${a.mode})`);
  if (a.kind === 'http') {
    const i = a.input as { method?: string; path?: string; query?: Record<string, unknown>; body?: unknown; headers?: Record<string, string> };
    const qs = i.query ? `?${new URLSearchParams(Object.entries(i.query).flatMap(([k, v]): Array<[string, string]> => (Array.isArray(v) ? v.map((x) => [k, String(x)]) : [[k, String(v)]]))).toString()}` : '';
    lines.push(`  will run:    ${i.method} ${i.path}${qs}`);
    if (i.headers && Object.keys(i.headers).length) lines.push(`  headers:     ${JSON.stringify(i.headers)}`);
    if (i.body !== undefined) lines.push(`  body:\n${block(JSON.stringify(i.body, null, 2)).replace(/^/gm, '    ')}`);
  } else if (a.kind === 'sql') {
    lines.push(...sqlLines(a));
  } else if (a.kind === 'command') {
    lines.push(...commandLines(a));
  } else {
    lines.push(`  input:\n${block(JSON.stringify(a.input, null, 2)).replace(/^/gm, '    ')}`);
  }
  if (a.justification) lines.push(`  why:         ${safeLine(a.justification)}`);
  lines.push(`  decision:    ${a.decision.outcome} (${a.decision.rules.join(', ')}): ${a.decision.reason}`);
  if (a.review) {
    for (const q of a.review.requirements) {
      const esc = q.escalate ? `; escalates to ${q.escalate.to.join(', ')} ${q.escalate.done ? '(escalated)' : `at ${q.escalate.at}`}` : '';
      lines.push(`  needs:       ${q.quorum} of ${q.approvers.join(', ')} [rule ${q.ruleId}] — ${q.approvedBy.length}/${q.quorum} so far${q.approvedBy.length ? ` (${q.approvedBy.join(', ')})` : ''}${esc}`);
    }
    for (const r of a.review.reviews) lines.push(`  review:      ${r.verdict} by ${r.reviewer} via ${r.via} at ${r.at}${r.comment ? `: ${safeLine(r.comment)}` : ''}`);
    if (a.status === 'pending') lines.push(`  expires:     ${a.review.expiresAt}`);
  }
  if (a.result) {
    const r = a.result;
    lines.push(`  result:      ${r.ok ? 'ok' : 'failed'}${r.status !== undefined ? ` HTTP ${r.status}` : ''}${r.reason ? ` (${r.reason})` : ''}${r.error ? `: ${safeLine(r.error.message)}` : ''}`);
    if (r.body !== undefined) lines.push(block(typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2), 600).replace(/^/gm, '    '));
  }
  lines.push(`  fingerprint: ${a.fingerprint}`);
  // Free text was made one line above; blocks keep their newlines and nothing else.
  return lines.map((l) => (l.includes('\n') ? safeBlock(l) : safeLine(l))).join('\n');
}

/** A sql action: the statement, its params, what policy saw and the dry-run preview. */
function sqlLines(a: Action): string[] {
  const indent = (s: string) => s.replace(/^/gm, '    ');
  const lines = [`  will run:    ${sqlSummary(a.target, a.facts?.sql)}`, `  statement:\n${indent(block(sqlStatementText(a.input)))}`];
  const params = sqlParamsText(a.input);
  if (params !== undefined) lines.push(`  params:\n${indent(block(params))}`);
  if (a.facts?.sql) lines.push(`  facts:\n${indent(sqlFactLines(a.facts.sql).join('\n'))}`);
  if (a.preview && a.preview.mode !== 'command') lines.push(`  preview:\n${indent(block(sqlPreviewLines(a.preview).join('\n'), 4000))}`);
  else if (a.status === 'pending') lines.push('  preview:     none');
  if (a.drift) lines.push(`  drift:       ${a.drift.kind === 'exact' ? 'any difference in rows is drift' : a.drift.kind === 'percent' ? `up to ${a.drift.value}% more or fewer rows` : `up to ${a.drift.value} more or fewer rows`}`);
  return lines;
}

/** A command: the argv, what it sends, what policy saw, and the dry run with its output hash. */
function commandLines(a: Action): string[] {
  const indent = (s: string) => s.replace(/^/gm, '    ');
  const lines = [`  will run:    ${commandSummary(a.target, a.facts?.command, a.input)}`, `  command:\n${indent(block(commandLineText(a.input)))}`];
  const sent = commandInputLines(a.input);
  if (sent.length) lines.push(`  sends:\n${indent(block(sent.join('\n')))}`);
  if (a.facts?.command) lines.push(`  facts:\n${indent(commandFactLines(a.facts.command).join('\n'))}`);
  if (a.preview?.mode === 'command') lines.push(`  preview:\n${indent(block(commandPreviewLines(a.preview).join('\n'), 8000))}`);
  else if (a.status === 'pending') lines.push('  preview:     none');
  return lines;
}

export function formatActionLine(a: Action): string {
  const what =
    a.kind === 'http' ? `${String(a.input.method)} ${String(a.input.path)}` : a.kind === 'sql' ? sqlSummary(a.target, a.facts?.sql) : a.kind === 'command' ? commandSummary(a.target, a.facts?.command, a.input) : typeof a.input.tool === 'string' ? a.input.tool : a.kind;
  return safeLine(`${a.id}  ${a.status.padEnd(9)} ${a.requester.id.padEnd(16)} ${a.target.padEnd(12)} ${what}  [${a.decision.rules.join(',')}]`);
}
