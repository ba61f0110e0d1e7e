import { describe, expect, it } from 'vitest';
import { MASKED, maskedColumns, maskRows, parseMaskRules, touchesMaskedTable } from './sql-mask.js';
import { sqlResultSummary } from './sql-result-summary.js';

const src = (schema: string, table: string, column: string) => ({ schema, table, column });

describe('sql mask rules', () => {
  const rules = parseMaskRules(['users.email', '*.ssn', 'billing.payments.card_number', '"Odd"."Mixed.Case"']);

  it('a rule without schema masks the column in every schema', () => {
    expect(maskedColumns(rules, [src('public', 'users', 'email'), src('crm', 'users', 'email'), src('public', 'users', 'name')], false)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('* masks the column in every table, a schema-qualified rule only in its schema', () => {
    expect(maskedColumns(rules, [src('public', 'people', 'ssn'), src('billing', 'payments', 'card_number'), src('public', 'payments', 'card_number')], false)).toEqual([
      true,
      true,
      false,
    ]);
  });

  it('unquoted names fold to lower case, quoted ones keep case and dots', () => {
    expect(parseMaskRules(['Users.Email'])).toEqual([{ schema: null, table: 'users', column: 'email' }]);
    expect(maskedColumns(rules, [src('public', 'Odd', 'Mixed.Case'), src('public', 'odd', 'mixed.case')], false)).toEqual([true, false]);
  });

  it('a column with no traceable source is masked only when the statement may have read a masked column', () => {
    expect(maskedColumns(rules, [null, src('public', 'users', 'id')], true)).toEqual([true, false]);
    expect(maskedColumns(rules, [null], false)).toEqual([false]);
    expect(maskedColumns([], [null], true)).toEqual([false]);
  });

  it('masks values, nulls included, and leaves the other columns alone', () => {
    expect(maskRows([[1, 'a@x', null], [2, null, 'z']], [false, true, true])).toEqual([
      [1, MASKED, MASKED],
      [2, MASKED, MASKED],
    ]);
  });

  it('refuses a malformed rule and names it', () => {
    for (const bad of ['email', 'a.b.c.d', 'users.*', '*.users.email', 'users..email', 'users.email.', '"unterminated.x', 'us-ers.email', '']) {
      expect(() => parseMaskRules([bad]), bad).toThrow(/mask rule/);
    }
  });
});

describe('params in the audit log', () => {
  const rules = parseMaskRules(['users.email', 'billing.payments.card_number']);
  it('a param of an input over a table with a masked column may target it, whatever columns it names', () => {
    expect(touchesMaskedTable(rules, ['public.users'])).toBe(true);
    expect(touchesMaskedTable(rules, ['crm.users'])).toBe(true); // no schema in the rule: any schema
    expect(touchesMaskedTable(rules, ['billing.payments'])).toBe(true);
    expect(touchesMaskedTable(rules, ['public.payments', 'public.orders'])).toBe(false); // the rule names schema billing
    expect(touchesMaskedTable([], ['public.users'])).toBe(false);
    expect(touchesMaskedTable(parseMaskRules(['*.ssn']), ['public.anything'])).toBe(true);
    // Facts that cannot name the schema (a search_path set from a variable) or the table (dynamic SQL).
    expect(touchesMaskedTable(rules, ['*.payments'])).toBe(true);
    expect(touchesMaskedTable(rules, ['*'])).toBe(true);
    expect(touchesMaskedTable(rules, ['*.orders'])).toBe(false);
  });

  it('the audit keeps row counts, truncation and drift figures of a result, never its rows', () => {
    const body = { statements: [{ index: 0, type: 'select', rowCount: 2, columns: ['email'], rows: [['a@x'], ['b@x']] }, { index: 1, type: 'update', rowCount: null }], truncated: true };
    expect(sqlResultSummary(body)).toEqual({ rows: [2, null], truncated: true });
    expect(JSON.stringify(sqlResultSummary(body))).not.toContain('a@x');
    expect(sqlResultSummary({ drift: { statement: 0, approved: 3, actual: 30 } })).toEqual({ drift: { statement: 0, approved: 3, actual: 30 } });
    expect(sqlResultSummary('text')).toEqual({});
  });
});
