import { beforeAll, describe, expect, it } from 'vitest';
import { createPgQueryParser } from '../../src/adapters/sql/pg-query-parser.js';
import { isAppError } from '../../src/domain/errors.js';
import { SQL_INPUT_LIMITS } from '../../src/domain/sql-input.js';
import type { TargetInfo } from '../../src/domain/target-catalog.js';
import type { InputCheck } from '../../src/services/submit-service.js';
import { createKindChecks } from '../../src/services/kind-checks.js';

let check: InputCheck;
beforeAll(async () => {
  check = createKindChecks({ sqlParser: await createPgQueryParser() }).sql;
});

const target: TargetInfo = { name: 'billing-db', kind: 'postgres', exportRows: 1000, facts: { name: 'billing-db', kind: 'postgres', labels: {} } };
const run = (input: Record<string, unknown>) => check({ kind: 'sql', target: 'billing-db', input }, target);

function refusal(input: Record<string, unknown>): { code: string; status: number; message: string; details: Record<string, unknown> | undefined } {
  try {
    run(input);
  } catch (e) {
    if (isAppError(e)) return { code: e.code, status: e.status, message: e.message, details: e.details };
    throw e;
  }
  throw new Error('accepted');
}

describe('a sql input is refused with a code naming what is wrong', () => {
  it('an unparsable statement: SQL_PARSE_ERROR with the parser message and where it points', () => {
    const r = refusal({ statement: 'SELECT 1;\nSELEC * FROM t' });
    expect(r).toMatchObject({ code: 'SQL_PARSE_ERROR', status: 422 });
    expect(r.details).toEqual({ parser: 'syntax error at or near "SELEC"', position: 11, line: 2, column: 1 });
    expect(r.message).toContain('line 2, column 1');
  });

  it('counts the position in characters, not bytes', () => {
    expect(refusal({ statement: "SELECT 'é' ,, 1" }).details).toMatchObject({ position: 13, line: 1, column: 13 });
  });

  it('an empty statement, or one of only comments and semicolons', () => {
    for (const statement of ['', '   \n', '-- nothing\n;;', '/* x */']) expect(refusal({ statement }).code, JSON.stringify(statement)).toBe('SQL_EMPTY');
  });

  it('a statement over the size limit, 1 MB included', () => {
    expect(refusal({ statement: `SELECT '${'x'.repeat(SQL_INPUT_LIMITS.maxStatementBytes)}'` })).toMatchObject({ code: 'SQL_TOO_LARGE', status: 413 });
    expect(refusal({ statement: `SELECT '${'x'.repeat(1_000_000)}'` }).code).toBe('SQL_TOO_LARGE');
  });

  it('10,000 statements in one input', () => {
    expect(refusal({ statement: 'SELECT 1;'.repeat(10_000) })).toMatchObject({ code: 'SQL_TOO_MANY_STATEMENTS', details: { statements: 10_000, limit: SQL_INPUT_LIMITS.maxStatements } });
  });

  it('a NUL character in the statement or a param', () => {
    expect(refusal({ statement: 'SELECT 1\u0000; DROP TABLE t' }).code).toBe('SQL_INVALID_TEXT');
    expect(refusal({ statement: 'SELECT $1', params: ['a\u0000b'] }).details).toEqual({ path: 'input.params[0]' });
  });

  it('more params than placeholders, and the reverse', () => {
    expect(refusal({ statement: 'SELECT $1', params: [1, 2] })).toMatchObject({ code: 'SQL_PARAMS_MISMATCH', details: { placeholders: 1, params: 2 } });
    expect(refusal({ statement: 'SELECT $1, $2', params: [1] })).toMatchObject({ code: 'SQL_PARAMS_MISMATCH', details: { placeholders: 2, params: 1 } });
    expect(refusal({ statement: 'SELECT 1', params: ['x'] }).code).toBe('SQL_PARAMS_MISMATCH');
    expect(refusal({ statement: 'SELECT $2', params: [1, 2] })).toMatchObject({ code: 'SQL_PARAMS_MISMATCH', details: { missing: [1] } });
  });

  it('params that are not scalars, and unknown keys', () => {
    expect(refusal({ statement: 'SELECT $1', params: [{ a: 1 }] }).code).toBe('VALIDATION_FAILED');
    expect(refusal({ statement: 'SELECT $1', params: 'x' }).code).toBe('VALIDATION_FAILED');
    expect(refusal({ statement: 'SELECT $1', params: [2 ** 60] }).code).toBe('VALIDATION_FAILED');
    expect(refusal({ statement: 'SELECT 1', database: 'other' }).code).toBe('VALIDATION_FAILED');
    expect(refusal({ statement: 42 }).code).toBe('VALIDATION_FAILED');
  });

  it('placeholders inside strings, comments or dollar quotes are not placeholders', () => {
    expect(run({ statement: "SELECT '$1', $x$ $2 $x$ -- $3\n" })).toBeDefined();
  });
});

describe('a valid sql input', () => {
  it('gives policy the facts of its parse', () => {
    expect(run({ statement: 'UPDATE invoices SET paid = $2 WHERE id = $1', params: [7, true] })).toMatchObject({ sql: { types: ['update'], writes: ['public.invoices'], unbounded: false } });
  });
});

describe('deeply nested statements', () => {
  it('are refused with SQL_TOO_COMPLEX or the parser\'s own refusal, never a crash, and the parser keeps working', () => {
    for (const statement of [`SELECT ${'NOT '.repeat(5000)}true`, `SELECT 1${' + 1'.repeat(5000)}`]) expect(refusal({ statement }).code).toBe('SQL_TOO_COMPLEX');
    for (const statement of [`SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`, `SELECT 1${' + 1'.repeat(40_000)}`]) expect(refusal({ statement }).code).toBe('SQL_PARSE_ERROR');
    expect(run({ statement: `SELECT ${'('.repeat(200)}1${')'.repeat(200)}` })).toBeDefined();
    expect(run({ statement: 'SELECT 1' })).toMatchObject({ sql: { types: ['select'] } });
  });
});
