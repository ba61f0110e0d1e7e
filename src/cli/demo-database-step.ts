import pg from 'pg';
import type { CountersignClient } from '../client/client.js';
import type { Action } from '../client/types.js';
import { formatAction } from './action-format.js';
import { attempt, bold, describe, dim, say, waitWithProgress } from './demo-output.js';

/** The demo's statements: the same ones the demo test and the PGlite parity test run. */
export const DEMO_SQL = {
  read: "SELECT id, name, email, plan FROM customers WHERE churned ORDER BY id LIMIT 10",
  update: "UPDATE customers SET plan = 'free' WHERE churned AND plan <> 'free'",
  drop: 'DROP TABLE customers',
} as const;

interface StatementResult {
  type?: string;
  rowCount?: number | null;
  columns?: string[];
  rows?: unknown[][];
}

function resultLines(a: Action): string[] {
  const body = a.result?.body as { statements?: StatementResult[]; error?: { message?: string } } | undefined;
  if (!a.result?.ok) return [`${a.status}: ${a.result?.reason ?? ''} ${a.result?.error?.message ?? body?.error?.message ?? ''}`.trim()];
  const out: string[] = [];
  for (const s of body?.statements ?? []) {
    out.push(`${a.status}: ${s.type ?? 'statement'}, ${s.rowCount ?? '?'} row${s.rowCount === 1 ? '' : 's'}`);
    if (s.columns?.length) out.push(`    ${s.columns.join(' | ')}`);
    for (const r of s.rows ?? []) out.push(`    ${r.map((v) => String(v)).join(' | ')}`);
  }
  return out;
}

export interface DatabaseStepContext {
  agent: CountersignClient;
  client: (token: string) => CountersignClient;
  tokens: { bob: string; carol: string };
  autoApprove: boolean;
  /** How to run the CLI, for the approve command printed without --auto-approve. */
  cli: string;
  gatewayUrl: string;
  /** The step numbers shown. */
  first: number;
}

/** The agent reads (allowed, masked), updates (held with its preview, approved, executed) and tries a DROP (denied). */
export async function runDatabaseSteps(c: DatabaseStepContext): Promise<void> {
  const n = c.first;
  say(`\n${bold(`${n}. The agent reads churned customers`)} — shop-db (sql)`);
  say(`  ${DEMO_SQL.read}`);
  const read = await c.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.read }, justification: 'Find churned customers' });
  say(`  ${describe(read)}`);
  const readDone = await c.agent.wait(read.id, { timeoutSeconds: 30 });
  for (const l of resultLines(readDone)) say(`  ${l}`);
  say(dim('  customers.email is masked (target mask): the agent never sees it.'));

  say(`\n${bold(`${n + 1}. The agent downgrades churned customers to the free plan`)} — an UPDATE`);
  const upd = await c.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.update }, justification: 'Churned customers should not keep paid plans' });
  say(`  ${describe(upd)}`);
  say(dim('  Before asking anyone, the gateway ran the UPDATE in a transaction it rolled back. What the approver sees (`countersign show`):'));
  const shown = await c.client(c.tokens.bob).get(upd.id);
  say(formatAction(shown).replace(/^/gm, '    '));
  await attempt("carol (the agent's owner) approves", () => c.client(c.tokens.carol).approve(upd.id, upd.fingerprint));
  if (c.autoApprove) {
    await attempt('bob (on call) approves', () => c.client(c.tokens.bob).approve(upd.id, upd.fingerprint, 'Matches the preview: 3 rows'));
  } else {
    say(`\n  ${bold('The on-call engineer must approve. In another terminal:')}`);
    say(`    COUNTERSIGN_URL=${c.gatewayUrl} COUNTERSIGN_TOKEN=${c.tokens.bob} ${c.cli} show ${upd.id}`);
    say(`    COUNTERSIGN_URL=${c.gatewayUrl} COUNTERSIGN_TOKEN=${c.tokens.bob} ${c.cli} approve ${upd.id}`);
    say(`\n  The agent waits (long poll):`);
  }
  const updDone = await waitWithProgress(c.agent, upd.id);
  for (const l of resultLines(updDone)) say(`  ${l}`);
  say(dim('  The gateway compared the rows changed with the approved preview: no drift, so it committed.'));

  say(`\n${bold(`${n + 2}. The agent tries to drop the table`)} — ${DEMO_SQL.drop}`);
  const drop = await c.agent.submit({ kind: 'sql', target: 'shop-db', input: { statement: DEMO_SQL.drop }, justification: 'Start over' });
  say(`  ${describe(drop)}`);
}

/** The customers table as its owner sees it (not through the gateway): proof the UPDATE committed. */
export async function tableNow(url: string): Promise<string[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ id: number; name: string; plan: string; churned: boolean }>('SELECT id, name, plan, churned FROM customers ORDER BY id');
    return r.rows.map((x) => `${x.id} | ${x.name} | ${x.plan}${x.churned ? ' | churned' : ''}`);
  } finally {
    await c.end();
  }
}
