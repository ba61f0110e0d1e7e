import { beforeAll, describe, expect, it } from 'vitest';
import { createPgQueryParser } from '../../src/adapters/sql/pg-query-parser.js';
import type { SqlParser } from '../../src/ports/sql-parser.js';
import { compilePolicy } from '../../src/domain/policy-compile.js';
import type { EvaluationInput } from '../../src/domain/policy-types.js';
import type { SqlFacts } from '../../src/domain/sql-facts.js';
import { analyzeSql } from '../../src/domain/sql-facts.js';

let parser: SqlParser;
beforeAll(async () => {
  parser = await createPgQueryParser();
});

function facts(sql: string, exportRows = 1000): SqlFacts {
  const r = parser.parse(sql);
  if (!r.ok) throw new Error(r.message);
  return analyzeSql(r.statements, { exportRows }).facts;
}

/** The policy of issue 13, verbatim. */
const ISSUE_POLICY = `default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
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
`;

describe('the example policy of issue 13, on facts from the real parser', () => {
  const policy = compilePolicy(ISSUE_POLICY, 'policy.yaml', { groupExists: () => true }).policy;
  const decide = (statement: string, target = 'billing-db') => {
    const input: EvaluationInput = {
      action: { kind: 'sql', target, input: { statement }, mode: 'execute' },
      requester: { id: 'bot', type: 'agent', owner: 'alice@example.com', labels: {} },
      target: { name: target, kind: 'postgres', labels: {} },
      hints: { sql: facts(statement) },
    };
    return policy.evaluate(input);
  };

  it('allows a read of a table other than public.users on a *-db target', () => {
    expect(decide('SELECT id, total FROM invoices WHERE id = $1')).toMatchObject({ outcome: 'allow', rules: ['db-reads'] });
  });

  it('does not allow a read of public.users, written without its schema', () => {
    expect(decide('SELECT email FROM users WHERE id = 1')).toMatchObject({ outcome: 'review', rules: ['default'] });
  });

  it('does not allow reads on a target outside *-db', () => {
    expect(decide('SELECT 1 FROM invoices', 'warehouse').rules).toEqual(['default']);
  });

  it('does not take a SELECT calling a volatile function for a read', () => {
    expect(decide("SELECT nextval('invoices_id_seq') FROM invoices").rules).toEqual(['default']);
  });

  it('sends a GRANT, and an UPDATE without WHERE, to two DBAs', () => {
    for (const s of ['GRANT SELECT ON invoices TO analyst', 'UPDATE invoices SET paid = true', 'DELETE FROM invoices WHERE true']) {
      const d = decide(s);
      expect(d.outcome, s).toBe('review');
      expect(d.rules, s).toEqual(['db-privileges']);
      expect(d.requirements[0]).toMatchObject({ approvers: ['group:dba'], quorum: 2, timeoutMs: 3_600_000 });
    }
  });

  it('denies a DROP hidden after a SELECT in the same input', () => {
    expect(decide('SELECT 1; DROP TABLE invoices')).toMatchObject({ outcome: 'deny', rules: ['no-drops'], reason: 'denied by no-drops: Agents never drop objects' });
  });

  it('denies every kind of DROP, including objects it has no name for', () => {
    for (const s of ['DROP INDEX i', 'DROP SCHEMA s CASCADE', 'DROP FUNCTION f()', 'DROP CAST (int AS text)', 'DROP ROLE r']) expect(decide(s).outcome, s).toBe('deny');
  });

  it('does not take a DELETE inside a CTE for a read', () => {
    const f = facts('WITH d AS (DELETE FROM invoices RETURNING *) SELECT count(*) FROM d');
    expect(f).toMatchObject({ types: ['select', 'delete'], writes: ['public.invoices'], readOnly: false, unbounded: true });
    expect(decide('WITH d AS (DELETE FROM invoices RETURNING *) SELECT count(*) FROM d').rules).toEqual(['db-privileges']);
  });
});

describe('the attacks of the security review do not pass the example policy of issue 13', () => {
  const policy = compilePolicy(
    `${ISSUE_POLICY}  - id: users-untouched
    match: { kind: sql }
    when: '"public.users" in sql.writes || "public.invoices" in sql.writes'
    outcome: deny
`,
    'policy.yaml',
    { groupExists: () => true },
  ).policy;
  const decide = (statement: string) =>
    policy.evaluate({
      action: { kind: 'sql', target: 'billing-db', input: { statement }, mode: 'execute' },
      requester: { id: 'bot', type: 'agent', labels: {} },
      target: { name: 'billing-db', kind: 'postgres', labels: {} },
      hints: { sql: facts(statement) },
    });

  it.each([
    'PREPARE p AS DELETE FROM t WHERE id <= 2; EXPLAIN ANALYZE EXECUTE p',
    'EXPLAIN ANALYZE EXECUTE p',
    'EXPLAIN ANALYZE CREATE TABLE stolen AS SELECT * FROM t',
    'EXPLAIN ANALYZE CREATE MATERIALIZED VIEW stolen AS SELECT * FROM t',
    'EXPLAIN ANALYZE SELECT * INTO t2 FROM t',
    'PREPARE p AS SELECT 1',
  ])('%s is not allowed as a read', (statement) => {
    expect(decide(statement).outcome).not.toBe('allow');
  });

  it('denies a DROP built at run time in a DO block, through the rule on drop_ types', () => {
    expect(decide("DO $$BEGIN EXECUTE 'DROP TABLE users'; END$$")).toMatchObject({ outcome: 'deny', reason: 'denied by no-drops: Agents never drop objects' });
    expect(decide("DO LANGUAGE plpython3u $$plpy.execute('DROP TABLE users')$$").outcome).toBe('deny');
  });

  it('denies a write to public.users reached through a later schema of the search_path', () => {
    expect(decide('SET search_path = billing, public; DELETE FROM users WHERE id = 1').outcome).toBe('deny');
    expect(decide("SELECT set_config('search_path', 'billing', false); DELETE FROM invoices WHERE id = 1").outcome).toBe('deny');
    expect(decide("SELECT set_config('search_path', $1, false); DELETE FROM invoices WHERE id = 1").outcome).toBe('deny');
  });
});

describe('facts', () => {
  it('resolve unqualified names to public and keep quoted identifiers as written', () => {
    expect(facts('SELECT * FROM "Billing"."Invoices" i JOIN users u ON u.id = i.user_id LIMIT 5').tables).toEqual(['Billing.Invoices', 'public.users']);
  });

  it('see a SELECT INTO as a write that creates a table', () => {
    expect(facts('SELECT * INTO archive FROM invoices')).toMatchObject({ types: ['select_into'], writes: ['public.archive'], reads: ['public.invoices'], ddl: true, readOnly: false });
  });

  it('call COPY TO an export and COPY FROM a write', () => {
    expect(facts('COPY invoices TO STDOUT')).toMatchObject({ export: true, readOnly: true, reads: ['public.invoices'] });
    expect(facts("COPY invoices TO '/tmp/x'")).toMatchObject({ export: true, readOnly: false });
    expect(facts('COPY invoices FROM STDIN')).toMatchObject({ export: false, writes: ['public.invoices'], readOnly: false });
  });

  it('call a SELECT of a table an export unless its LIMIT is within exportRows', () => {
    expect(facts('SELECT * FROM invoices').export).toBe(true);
    expect(facts('SELECT * FROM invoices LIMIT 10').export).toBe(false);
    expect(facts('SELECT * FROM invoices LIMIT 10', 5).export).toBe(true);
    expect(facts('SELECT count(*) FROM invoices').export).toBe(false);
    expect(facts('SELECT 1').export).toBe(false);
  });

  it('list the columns named, qualified where the table is known', () => {
    expect(facts('UPDATE users SET email = lower(email) WHERE id = $1').columns).toEqual(['public.users.email', 'public.users.id']);
  });

  it('note the placeholders used', () => {
    const r = parser.parse('SELECT $2, $1::int');
    expect(r.ok && analyzeSql(r.statements, { exportRows: 1 }).placeholders).toEqual([1, 2]);
  });
});

describe('the examples of docs/policy.md hold on real facts', () => {
  const when = (expression: string, statement: string): boolean => {
    const p = compilePolicy(`default: { outcome: deny }\nrules:\n  - id: r\n    match: { kind: sql }\n    when: '${expression}'\n    outcome: allow\n`, 'p.yaml', { groupExists: () => true }).policy;
    return (
      p.evaluate({
        action: { kind: 'sql', target: 'db', input: { statement }, mode: 'execute' },
        requester: { id: 'a', type: 'agent', labels: {} },
        target: { name: 'db', kind: 'postgres', labels: {} },
        hints: { sql: facts(statement, 100) },
      }).outcome === 'allow'
    );
  };

  it.each([
    ['sql.readOnly && !sql.export', 'SELECT id FROM invoices WHERE id = 1 LIMIT 1', true],
    ['sql.readOnly && !sql.export', 'SELECT * FROM invoices', false],
    ['sql.types == ["select"]', 'SELECT 1; SELECT 2', true],
    ['"delete" in sql.types', 'WITH d AS (DELETE FROM t WHERE id = 1 RETURNING 1) SELECT * FROM d', true],
    ['sql.types.exists(t, t.startsWith("drop_"))', 'DROP VIEW v', true],
    ['sql.writes.all(t, t.startsWith("staging."))', 'UPDATE staging.rows SET a = 1 WHERE id = 2', true],
    ['sql.writes.all(t, t.startsWith("staging."))', 'UPDATE public.rows SET a = 1 WHERE id = 2', false],
    ['"public.users.email" in sql.columns', 'SELECT email FROM users WHERE id = 1', true],
    ['sql.statements.all(s, s.type != "select" || (s.limit != null && s.limit <= 50))', 'SELECT * FROM t LIMIT 20', true],
    ['sql.statements.all(s, s.type != "select" || (s.limit != null && s.limit <= 50))', 'SELECT * FROM t', false],
    ['sql.readOnly && sql.statements.all(s, s.type != "select" || (s.limit != null && s.limit <= 50))', 'SELECT * FROM t LIMIT 20', true],
    ['sql.readOnly && sql.statements.all(s, s.type != "select" || (s.limit != null && s.limit <= 50))', 'DELETE FROM t WHERE id = 1', false],
    ['sql.statements.exists(s, s.type == "update" && !s.where)', 'UPDATE t SET a = 1', true],
    ['sql.statements.exists(s, "pg_sleep" in s.functions)', 'SELECT pg_sleep(1)', true],
    ['size(sql.statements) == 1', 'SELECT 1; SELECT 2', false],
    ['!sql.dynamic', "DO $$ BEGIN EXECUTE 'TRUNCATE t'; END $$", false],
    ['!sql.dynamic', 'DO $$ BEGIN DELETE FROM t WHERE id = 1; END $$', true],
    ['sql.tables.exists(t, t.startsWith("*."))', "SELECT set_config('search_path', $1, false); DELETE FROM t WHERE id = 1", true],
    ['"public.users" in sql.writes', 'SET search_path = billing, public; DELETE FROM users WHERE id = 1', true],
    ['!sql.privilege && sql.writes.all(t, t.startsWith("staging."))', 'DROP TABLE staging.rows', true],
    ['!sql.privilege && sql.writes.all(t, t.startsWith("staging."))', 'DROP TABLE staging.rows CASCADE', false],
    ['!sql.privilege && sql.writes.all(t, t.startsWith("staging."))', 'DROP SCHEMA public', false],
    ['!sql.privilege && sql.writes.all(t, t.startsWith("staging."))', 'CREATE SCHEMA evil CREATE TABLE t (a int)', false],
  ] as const)('%s on %s is %s', (expression, statement, expected) => {
    expect(when(expression, statement)).toBe(expected);
  });
});
