import type { FastifyInstance } from 'fastify';
import { AppError, isAppError } from '../domain/errors.js';
import { safeLine } from '../domain/visible-text.js';
import type { ConsoleDeps } from './console-context.js';
import { isAuditor } from './console-context.js';
import { html } from './console-html.js';
import { page } from './console-layout.js';
import { sessionHook } from './console-plugin.js';

const auditQuery = { type: 'object', additionalProperties: false, properties: { before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } } } as const;

/** The audit log for auditors (audit.readerGroups): entries newest first and the latest signed checkpoint. */
export function registerAuditPages(app: FastifyInstance, deps: ConsoleDeps): void {
  app.get('/audit', { schema: { querystring: auditQuery }, preHandler: sessionHook(deps, 'page') }, async (req, reply) => {
    const s = req.consoleUser!;
    if (!isAuditor(s, deps.auditorGroups)) {
      throw new AppError('FORBIDDEN', `Reading the audit log needs membership of ${deps.auditorGroups.map((g) => `group:${g}`).join(' or ') || 'an audit reader group (none configured)'}`);
    }
    const size = await deps.store.auditSize();
    const { before } = req.query as { before?: number };
    const end = Math.min(before ?? size, size);
    const start = Math.max(0, end - deps.config.pageSize);
    const { entries } = await deps.audit.entries(s.principal, start, end);
    let checkpoint: string | undefined;
    try {
      checkpoint = await deps.audit.checkpoint(s.principal);
    } catch (e) {
      if (!(isAppError(e) && e.code === 'AUDIT_NO_CHECKPOINT')) throw e;
    }
    // The checkpoints signed over the entries shown (oldest first from the page's start).
    const checkpoints = (await deps.store.listCheckpoints(start, 20)).filter((c) => c.size <= end + deps.config.pageSize);
    const body = html`<h2>Latest signed checkpoint</h2>
${checkpoint ? html`<pre class="note" tabindex="0" aria-label="Latest signed checkpoint">${safeLine(checkpoint).replaceAll('\\u000a', '\n')}</pre>` : html`<p>No checkpoint signed yet.</p>`}
<p>Verifier keys of this log: ${deps.verifierKeys.map((k) => html`<code>${k}</code> `)}</p>
${checkpoints.length ? html`<h2>Checkpoints over these entries</h2><table class="list" id="checkpoints"><caption class="sr-only">Signed checkpoints</caption><thead><tr><th scope="col">Tree size</th><th scope="col">Signed at</th><th scope="col">Witness cosignatures</th></tr></thead><tbody>${checkpoints.map((c) => html`<tr><td>${c.size}</td><td><time datetime="${c.signedAt}">${c.signedAt}</time></td><td>${c.cosignatures.length}</td></tr>`)}</tbody></table>` : ''}
<h2>Entries</h2>
<p>The log holds ${size} entries. To check an action's entries in your browser, open it and choose "Verify".</p>
<table class="list" id="audit">
<caption class="sr-only">Audit entries, newest first</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Type</th><th scope="col">Actor</th><th scope="col">Action</th></tr></thead>
<tbody>${[...entries].reverse().map(
      (e) => html`<tr><td>${e.seq}</td><td><time datetime="${e.ts}">${e.ts}</time></td><td>${e.type}</td><td>${e.actor ? `${e.actor.type}:${e.actor.id}` : '—'}</td>
<td>${e.actionId ? html`<a href="/console/actions/${e.actionId}">${e.actionId}</a> (<a href="/console/actions/${e.actionId}/verify">verify</a>)` : '—'}</td></tr>`,
    )}</tbody>
</table>
${start > 0 ? html`<p class="pager"><a href="/console/audit?before=${start}">Older entries</a></p>` : ''}`;
    return reply.type('text/html; charset=utf-8').send(page({ title: 'Audit log', signedIn: s, nav: 'audit', auditor: true, body }));
  });
}
