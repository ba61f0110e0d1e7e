import { Command } from 'commander';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './cli-runtime.js';
import { registerPolicyCommands } from './policy-commands.js';

let dir: string;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
  try {
    const program = new Command().name('countersign');
    registerPolicyCommands(program);
    await runCli(program, ['node', 'countersign', ...args]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, out, err };
}

const POLICY = `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: db-reads
    match: { kind: sql, target: "*-db" }
    when: sql.readOnly && !("public.users" in sql.tables)
    outcome: allow
  - id: db-privileges
    match: { kind: sql }
    when: sql.privilege || sql.unbounded
    outcome: review
    review: { approvers: [group:dba], quorum: 2, timeout: 1h }
  - id: no-drops
    match: { kind: sql }
    when: sql.types.exists(t, t.startsWith("drop_"))
    outcome: deny
    reason: Agents never drop objects
  - id: exports
    match: { kind: sql }
    when: sql.export
    outcome: review
    review: { approvers: [group:dba], quorum: 1, timeout: 1h }
`;
const CONFIG = `humans:
  - { id: alice@example.com, groups: [oncall, dba] }
  - { id: carol@example.com, groups: [dba] }
targets:
  billing-db: { kind: postgres, url: "\${BILLING_DB_URL_UNSET_IN_TESTS}", limits: { exportRows: 10 } }
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'countersign-policy-sql-'));
});
afterEach(() => {
  process.exitCode = undefined;
});

describe('policy commands on sql actions compute the facts the gateway computes', () => {
  it('policy test runs sql cases through the parser, with the target exportRows from the config', async () => {
    const cases = file(
      'cases.yaml',
      `cases:
  - name: a bounded read is allowed
    requester: { id: sql-bot, type: agent, owner: alice@example.com }
    action: { kind: sql, target: billing-db, input: { statement: "SELECT id FROM invoices WHERE id = $1 LIMIT 5", params: [1] } }
    expect: { outcome: allow, rules: [db-reads] }
  - name: a read above the target's exportRows is an export
    requester: { id: sql-bot, type: agent, owner: alice@example.com }
    action: { kind: sql, target: billing-db, input: { statement: "SELECT id FROM invoices LIMIT 50" } }
    expect: { outcome: review, rules: [db-reads, exports] }
  - name: a drop after a select is denied
    requester: { id: sql-bot, type: agent, owner: alice@example.com }
    action: { kind: sql, target: billing-db, input: { statement: "SELECT 1; DROP TABLE invoices" } }
    expect: { outcome: deny, rules: [no-drops] }
`,
    );
    const r = await cli('policy', 'test', file('policy.yaml', POLICY), cases, '--config', file('config.yaml', CONFIG));
    expect(r.out).toContain('3 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  it('policy test refuses a case whose statement the gateway would refuse, naming the code', async () => {
    const cases = file('bad.yaml', `cases:\n  - name: typo\n    requester: { id: sql-bot, type: agent, owner: alice@example.com }
    action: { kind: sql, target: billing-db, input: { statement: "SELEC 1" } }\n    expect: { outcome: deny }\n`);
    const r = await cli('policy', 'test', file('policy.yaml', POLICY), cases, '--config', file('config.yaml', CONFIG));
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('SQL_PARSE_ERROR');
  });

  it('policy explain shows the decision and the facts the rules saw', async () => {
    const action = file('action.json', JSON.stringify({ kind: 'sql', target: 'billing-db', input: { statement: 'GRANT SELECT ON invoices TO analyst' } }));
    const r = await cli('policy', 'explain', file('policy.yaml', POLICY), action, '--config', file('config.yaml', CONFIG), '--json');
    const out = JSON.parse(r.out) as { decision: { outcome: string; rules: string[] }; input: { sql: { types: string[]; privilege: boolean; writes: string[] } } };
    expect(out.decision).toMatchObject({ outcome: 'review', rules: ['db-privileges'] });
    expect(out.input.sql).toMatchObject({ types: ['grant'], privilege: true, writes: ['public.invoices'] });
  });

  it('policy check accepts match.kind: sql and refuses a sql fact in an http rule', async () => {
    expect((await cli('policy', 'check', file('policy.yaml', POLICY))).code).toBe(0);
    const bad = file('bad-policy.yaml', 'rules:\n  - id: x\n    match: { kind: http }\n    when: sql.readOnly\n    outcome: allow\n');
    const r = await cli('policy', 'check', bad);
    expect(r.code).toBe(1);
    expect(r.err).toContain('`sql` is only available in rules whose match.kind is sql');
  });
});
