import { describe, expect, it } from 'vitest';
import { parseStatements } from './pg-parse.js';
import { noPreviewReason } from './sql-no-preview.js';
import { isConstantExpression, mayReveal, notRewritable, rewriteDml } from './sql-rewrite.js';

const one = async (sql: string) => (await parseStatements(sql))[0]!;
const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('DML rewritten into the SELECT of its rows', () => {
  it('an UPDATE becomes the matching rows with their new values, cast to the column types, and their row identity', async () => {
    const rw = await rewriteDml(await one('UPDATE public.users u SET name = upper(name), active = $1 WHERE u.id < $2'), new Map([['active', 'boolean']]));
    expect(rw?.assigned).toEqual(['name', 'active']);
    expect(rw?.constant).toEqual([false, true]);
    expect(flat(rw!.sql)).toBe(
      'SELECT u.*, upper(name) AS countersign_new_0, CAST($1 AS boolean) AS countersign_new_1, u.tableoid AS countersign_tableoid, u.ctid AS countersign_ctid FROM public.users AS u WHERE u.id < $2',
    );
  });

  it('a DELETE ... USING keeps the join, and the statement\'s WITH clause', async () => {
    const rw = await rewriteDml(await one('WITH old AS (SELECT 1 AS id) DELETE FROM orders USING old WHERE orders.id = old.id'));
    expect(flat(rw!.sql)).toBe(
      'WITH old AS (SELECT 1 AS id) SELECT orders.*, orders.tableoid AS countersign_tableoid, orders.ctid AS countersign_ctid FROM orders, old WHERE orders.id = old.id',
    );
  });

  it('an INSERT becomes its VALUES or SELECT', async () => {
    const rw = await rewriteDml(await one("INSERT INTO t (a, b) SELECT x, 'y' FROM s WHERE x > 1"));
    expect(rw?.insertColumns).toEqual(['a', 'b']);
    expect(flat(rw!.sql)).toBe("SELECT x, 'y' FROM s WHERE x > 1");
  });

  it('what cannot be rewritten faithfully is named, not guessed', async () => {
    expect(notRewritable(await one('WITH d AS (DELETE FROM a RETURNING *) INSERT INTO b SELECT * FROM d'))).toMatch(/writable CTE/);
    expect(notRewritable(await one('UPDATE t SET (a, b) = (SELECT 1, 2)'))).toMatch(/multiple-column/);
    expect(notRewritable(await one('INSERT INTO t DEFAULT VALUES'))).toMatch(/DEFAULT VALUES/);
    expect(notRewritable(await one('INSERT INTO t VALUES (DEFAULT, 1)'))).toMatch(/DEFAULT values/);
    expect(await rewriteDml(await one('MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE'))).toBeNull();
  });

  it('a value reveals a masked column when it names one, a whole row, a subquery or a user function', async () => {
    const val = async (expr: string) => ((await one(`UPDATE t SET c = ${expr}`)).node.targetList as Array<{ ResTarget: { val: unknown } }>)[0]!.ResTarget.val;
    const masked = new Set(['email']);
    expect(isConstantExpression(await val("'x'::text"))).toBe(true);
    expect(isConstantExpression(await val('$1'))).toBe(true);
    expect(mayReveal(await val('lower(email)'), masked, new Set())).toBe(true);
    expect(mayReveal(await val('upper(name)'), masked, new Set())).toBe(false);
    expect(mayReveal(await val('(SELECT max(x) FROM s)'), masked, new Set())).toBe(true);
    expect(mayReveal(await val('leak(name)'), masked, new Set(['leak']))).toBe(true);
  });
});

describe('statements that get no preview', () => {
  it('are found in the parse tree, anywhere in the input, never by text', async () => {
    expect(noPreviewReason(await parseStatements("SELECT 'nextval(x)'"))).toBeNull();
    expect(noPreviewReason(await parseStatements('-- VACUUM\nSELECT 1'))).toBeNull();
    expect(noPreviewReason(await parseStatements("SELECT 1; SELECT * FROM t WHERE id = nextval('s')"))).toMatch(/^statement 2: nextval/);
    expect(noPreviewReason(await parseStatements('SELECT pg_catalog.pg_notify($1, $2)'))).toMatch(/pg_notify/);
  });
});
