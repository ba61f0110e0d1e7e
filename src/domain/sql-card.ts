import type { SqlFacts } from './sql-facts.js';
import type { SqlPreview, SqlStatementPreview } from './sql-preview.js';
import { safeBlock, safeLine } from './visible-text.js';

/**
 * What a review card shows of a `sql` action, whatever the surface (API view, CLI,
 * Slack, Teams, webhooks): a one-line summary from the parser's facts, the statement,
 * its params, the facts policy decided on, and the dry-run preview. Every string that
 * came from the agent or the database is made visible-safe here; renderers escape it
 * for their markup and cut it visibly.
 */

const MAX_ROW_TEXT = 300;
const MAX_ROWS_SHOWN = 5;

/** `update, delete on billing-db: writes public.invoices, public.sessions` */
export function sqlSummary(target: string, facts: SqlFacts | undefined): string {
  if (!facts) return safeLine(`sql ${target}`);
  const n = facts.statements.length;
  const objects = facts.writes.length ? `writes ${list(facts.writes, 3)}` : facts.reads.length ? `reads ${list(facts.reads, 3)}` : '';
  return safeLine(`${facts.types.join(', ')} on ${target}${objects ? `: ${objects}` : ''}${n > 1 ? ` (${n} statements)` : ''}`);
}

/** The statement as written: newlines kept, control characters made visible. */
export function sqlStatementText(input: Record<string, unknown>): string {
  return safeBlock(typeof input.statement === 'string' ? input.statement : '');
}

/** `$1 = 7`, `$2 = 'a@example.com'`, one a line; undefined without params. */
export function sqlParamsText(input: Record<string, unknown>): string | undefined {
  const params = Array.isArray(input.params) ? input.params : [];
  if (params.length === 0) return undefined;
  return params.map((p, i) => `$${i + 1} = ${safeLine(typeof p === 'string' ? `'${p}'` : JSON.stringify(p))}`).join('\n');
}

/** The facts policy saw, one line each, stating the risky ones plainly. */
export function sqlFactLines(f: SqlFacts): string[] {
  const flags = [
    f.readOnly ? 'read-only' : 'changes data, schema, roles or settings',
    ...(f.dynamic ? ['DYNAMIC SQL (built at run time or unreadable: not analysed, may do anything)'] : []),
    ...(f.ddl ? ['schema change'] : []),
    ...(f.privilege ? ['privilege change'] : []),
    ...(f.unbounded ? ['UNBOUNDED (UPDATE/DELETE without WHERE, or TRUNCATE)'] : []),
    ...(f.export ? ['export'] : []),
  ];
  const lines = [`types: ${f.types.join(', ')}`, `flags: ${flags.join(', ')}`];
  if (f.writes.length) lines.push(`writes: ${list(f.writes, 20)}`);
  if (f.reads.length) lines.push(`reads: ${list(f.reads, 20)}`);
  const functions = [...new Set(f.statements.flatMap((s) => s.functions))];
  if (functions.length) lines.push(`functions: ${list(functions, 20)}`);
  return lines.map(safeLine);
}

/** The preview, for a human: per statement its rows, a sample before and after, schema and privilege changes, notes. */
export function sqlPreviewLines(p: SqlPreview): string[] {
  const head = `${p.mode} preview: ${p.status}${p.status === 'ok' ? '' : ` (${p.reason ?? 'no reason given'})`}, ${p.tookMs} ms`;
  const lines = [head];
  if (p.status === 'ok' && p.reason) lines.push(`note: ${p.reason}`);
  for (const s of p.statements) lines.push(...statementLines(s));
  return lines.map((l) => safeLine(l));
}

function statementLines(s: SqlStatementPreview): string[] {
  const rows = s.rows === null ? 'rows not counted' : `${s.estimated ? '~' : ''}${s.rows} row${s.rows === 1 ? '' : 's'}${s.estimated ? ' (planner estimate)' : ''}`;
  const out = [`#${s.index + 1} ${s.type}: ${rows}`];
  if (s.columns?.length) out.push(`   columns: ${s.columns.join(', ')}`);
  out.push(...sample('before', s.before), ...sample('after', s.after));
  if (s.samplesHidden) out.push('   sample rows: shown to reviewers only (not to the action\'s parties)');
  for (const c of s.schemaChanges ?? []) out.push(`   schema: ${c.change} ${c.object} (${c.detail})`);
  for (const c of s.privilegeChanges ?? []) out.push(`   privilege: ${c.grantee} ${c.change} ${c.privilege} on ${c.object}`);
  if (s.note) out.push(`   note: ${s.note}`);
  return out;
}

function sample(label: string, rows: unknown[][] | undefined): string[] {
  if (!rows?.length) return [];
  const shown = rows.slice(0, MAX_ROWS_SHOWN).map((r) => `   ${label}: ${cut(JSON.stringify(r) ?? 'null')}`);
  if (rows.length > MAX_ROWS_SHOWN) shown.push(`   ${label}: … ${rows.length - MAX_ROWS_SHOWN} more row(s)`);
  return shown;
}

function cut(s: string): string {
  return s.length > MAX_ROW_TEXT ? `${s.slice(0, MAX_ROW_TEXT - 1)}…` : s;
}

function list(xs: readonly string[], max: number): string {
  return xs.length > max ? `${xs.slice(0, max).join(', ')} and ${xs.length - max} more` : xs.join(', ');
}
