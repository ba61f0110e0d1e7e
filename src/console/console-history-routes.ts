import type { FastifyInstance } from 'fastify';
import type { ActionRecord } from '../domain/action-record.js';
import { AppError } from '../domain/errors.js';
import type { Status } from '../domain/status.js';
import { STATUSES } from '../domain/status.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import { agentOf, CURSOR_PATTERN, cursorText, operationLine, parseCursor } from './console-format.js';
import { html } from './console-html.js';
import { page } from './console-layout.js';
import { sessionHook } from './console-plugin.js';

const DECIDED: Status[] = STATUSES.filter((s) => s !== 'pending');
/** Outcomes as a reviewer thinks of them: "approved" includes what ran afterwards. */
const OUTCOMES: Record<string, Status[]> = {
  approved: ['approved', 'running', 'succeeded', 'failed'],
  denied: ['denied'],
  expired: ['expired'],
  cancelled: ['cancelled'],
  succeeded: ['succeeded'],
  failed: ['failed'],
};
/** Most rows read to fill one filtered page. */
const SCAN_LIMIT = 2000;
const TIME = '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,3})?)?Z?)?$';
const NAME = '^[\\x21-\\x7e]{0,320}$';

const historyQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    agent: { type: 'string', pattern: NAME },
    target: { type: 'string', pattern: NAME },
    outcome: { type: 'string', enum: ['', ...Object.keys(OUTCOMES)] },
    decider: { type: 'string', pattern: NAME },
    from: { type: 'string', pattern: `(${TIME})|^$` },
    to: { type: 'string', pattern: `(${TIME})|^$` },
    before: { type: 'string', pattern: CURSOR_PATTERN },
  },
} as const;

interface Filters {
  agent?: string;
  target?: string;
  outcome?: string;
  decider?: string;
  from?: string;
  to?: string;
  before?: string;
}

/** Times in filters are UTC; a bare date or minute is completed. */
function instant(s: string | undefined, name: string): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s.endsWith('Z') ? s : `${s}Z`);
  if (!Number.isFinite(t)) throw new AppError('VALIDATION_FAILED', `${name}: not a date or time`);
  return t;
}

function matches(a: ActionRecord, f: Filters, from?: number, to?: number): boolean {
  if (f.agent && a.requester.id.toLowerCase() !== f.agent.toLowerCase()) return false;
  if (f.target && a.target !== f.target) return false;
  if (f.decider && !a.review?.reviews.some((r) => r.reviewer.toLowerCase() === f.decider!.toLowerCase())) return false;
  const t = Date.parse(a.createdAt);
  if (from !== undefined && t < from) return false;
  if (to !== undefined && t >= to) return false;
  return true;
}

function deciders(a: ActionRecord): string {
  const r = a.review?.reviews ?? [];
  return r.length ? r.map((x) => `${x.reviewer} (${x.verdict})`).join(', ') : 'policy';
}

export function registerHistoryRoutes(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/history', { schema: { querystring: historyQuery }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    const f = req.query as Filters;
    const from = instant(f.from, 'from');
    const to = instant(f.to, 'to');
    const status = f.outcome ? OUTCOMES[f.outcome]! : DECIDED;
    const rows: ActionRecord[] = [];
    let cursor = parseCursor(f.before);
    let next: { createdAt: string; id: string } | undefined;
    let scanned = 0;
    const size = deps.config.pageSize;
    for (;;) {
      const batch = await deps.queries.list(s.principal, { status, limit: 200, ...(cursor ? { before: cursor } : {}) });
      for (const a of batch) {
        scanned++;
        cursor = { createdAt: a.createdAt, id: a.id };
        if (from !== undefined && Date.parse(a.createdAt) < from) break;
        if (matches(a, f, from, to)) rows.push(a);
        if (rows.length === size) break;
      }
      if (rows.length === size || batch.length < 200 || scanned >= SCAN_LIMIT || (from !== undefined && cursor && Date.parse(cursor.createdAt) < from)) {
        if ((rows.length === size || scanned >= SCAN_LIMIT) && batch.length > 0) next = cursor;
        break;
      }
    }
    const keep = new URLSearchParams(Object.entries(f).filter(([k, v]) => k !== 'before' && v) as Array<[string, string]>);
    const field = (name: keyof Filters, label: string, hint = '') =>
      html`<div><label for="f-${name}">${label}</label><input type="text" id="f-${name}" name="${name}" value="${f[name] ?? ''}" ${hint ? html`placeholder="${hint}"` : ''}></div>`;
    const body = html`<form class="filters" method="get" action="/console/history" role="search" aria-label="Filter the history">
${field('agent', 'Agent')}
${field('target', 'Target')}
<div><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome"><option value="">any</option>${Object.keys(OUTCOMES).map((x) => html`<option value="${x}" ${f.outcome === x ? html`selected` : ''}>${x === 'approved' ? 'approved (and what ran)' : x === 'succeeded' || x === 'failed' ? `ran and ${x}` : x}</option>`)}</select></div>
${field('decider', 'Decider (email)')}
${field('from', 'From (UTC)', 'YYYY-MM-DD')}
${field('to', 'To (UTC, exclusive)', 'YYYY-MM-DD')}
<div><button type="submit">Filter</button></div>
</form>
<table class="list" id="history">
<caption class="sr-only">Decided actions, newest first</caption>
<thead><tr><th scope="col">Action</th><th scope="col">Agent</th><th scope="col">Target</th><th scope="col">Outcome</th><th scope="col">Decided by</th><th scope="col">Submitted</th><th scope="col">Audit entries</th></tr></thead>
<tbody>${
      rows.length
        ? rows.map(
            (a) => html`<tr>
<td><a href="/console/actions/${a.id}">${operationLine(a)}</a></td><td>${agentOf(a)}</td><td>${a.target}</td><td>${a.status}</td><td>${deciders(a)}</td>
<td><time datetime="${a.createdAt}">${a.createdAt}</time></td>
<td><a href="/console/actions/${a.id}/verify" aria-label="Verify the audit entries of ${a.id}">${(a.auditSeqs ?? []).join(', ') || '—'}</a></td></tr>`,
          )
        : html`<tr><td colspan="7" class="empty">No decided action matches.</td></tr>`
    }</tbody>
</table>
${next ? html`<p class="pager"><a href="/console/history?${keep.toString() ? `${keep.toString()}&` : ''}before=${cursorText(next)}">Older</a></p>` : ''}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'History', signedIn: s, nav: 'history', auditor: isAuditor(s, deps.auditorGroups), body }));
  });
}
