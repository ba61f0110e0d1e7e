import type { SqlInput } from './action.js';
import { AppError } from './errors.js';
import type { SqlAnalysis, SqlFactOptions } from './sql-facts.js';
import { analyzeSql } from './sql-facts.js';
import type { SqlParseOutcome } from './sql-tree.js';
import { deeperThan } from './sql-tree.js';

/**
 * Limits on one `sql` input (docs/databases.md). A migration script fits well within
 * them; what is past them is refused before it is parsed or shown to anyone.
 */
export const SQL_INPUT_LIMITS = Object.freeze({
  /** UTF-8 bytes of `statement`. */
  maxStatementBytes: 256 * 1024,
  /** Statements in one input (a script runs as one transaction). */
  maxStatements: 1000,
  /** Values in `params`. */
  maxParams: 1000,
  /**
   * Levels of the parse tree (about three per nested expression): far beyond what a
   * person writes, well within what the facts walk and PostgreSQL's own stack take.
   */
  maxTreeDepth: 2000,
});

const KEYS = new Set(['statement', 'params']);

/** The shape and text of a `sql` input: refused with a code naming what is wrong. */
export function checkSqlInputShape(input: Record<string, unknown>): SqlInput {
  for (const k of Object.keys(input)) {
    if (!KEYS.has(k)) throw new AppError('VALIDATION_FAILED', `input.${k}: unknown key (a sql input has only the keys statement, params)`);
  }
  const { statement, params } = input;
  if (typeof statement !== 'string') throw new AppError('VALIDATION_FAILED', 'input.statement: a string of SQL is required');
  if (statement.trim() === '') throw new AppError('SQL_EMPTY', 'input.statement: the statement is empty');
  const bytes = Buffer.byteLength(statement, 'utf8');
  if (bytes > SQL_INPUT_LIMITS.maxStatementBytes) {
    throw new AppError('SQL_TOO_LARGE', `input.statement: ${bytes} bytes is over the limit of ${SQL_INPUT_LIMITS.maxStatementBytes} bytes`, { bytes, limit: SQL_INPUT_LIMITS.maxStatementBytes });
  }
  // PostgreSQL text cannot hold NUL: a statement or value with one would be cut where reviewers do not see it.
  if (statement.includes('\u0000')) throw new AppError('SQL_INVALID_TEXT', 'input.statement: holds a NUL character, which PostgreSQL text cannot carry', { path: 'input.statement' });
  if (params === undefined) return { statement };
  if (!Array.isArray(params)) throw new AppError('VALIDATION_FAILED', 'input.params: must be an array of values for $1, $2...');
  if (params.length > SQL_INPUT_LIMITS.maxParams) throw new AppError('VALIDATION_FAILED', `input.params: ${params.length} values is over the limit of ${SQL_INPUT_LIMITS.maxParams}`);
  params.forEach((p, i) => {
    const path = `input.params[${i}]`;
    if (typeof p === 'string') {
      if (p.includes('\u0000')) throw new AppError('SQL_INVALID_TEXT', `${path}: holds a NUL character, which PostgreSQL text cannot carry`, { path });
    } else if (typeof p === 'number') {
      // Beyond 2^53 a JSON number is already rounded: the agent's digits would not be the ones bound.
      if (Number.isInteger(p) && !Number.isSafeInteger(p)) throw new AppError('VALIDATION_FAILED', `${path}: integers beyond 2^53 lose digits in JSON; send them as strings`, { path });
    } else if (typeof p !== 'boolean' && p !== null) {
      throw new AppError('VALIDATION_FAILED', `${path}: values are strings, numbers, booleans or null (send JSON as a string and cast it: $${i + 1}::jsonb)`, { path });
    }
  });
  return { statement, params: params as SqlInput['params'] };
}

/**
 * The parser's verdict on an input, and the facts of what it parsed: refused when the
 * parser rejects it, when it holds no statement or too many, and when its `$n`
 * placeholders and the params given do not match one for one.
 */
export function checkSqlParsed(input: SqlInput, outcome: SqlParseOutcome, opts: SqlFactOptions): SqlAnalysis {
  if (!outcome.ok) {
    const { line, column } = lineColumn(input.statement, outcome.position);
    throw new AppError('SQL_PARSE_ERROR', `input.statement: ${outcome.message} (line ${line}, column ${column})`, {
      parser: outcome.message,
      position: outcome.position + 1,
      line,
      column,
    });
  }
  const n = outcome.statements.length;
  if (n === 0) throw new AppError('SQL_EMPTY', 'input.statement: holds no statement (only comments or semicolons)');
  if (n > SQL_INPUT_LIMITS.maxStatements) {
    throw new AppError('SQL_TOO_MANY_STATEMENTS', `input.statement: ${n} statements is over the limit of ${SQL_INPUT_LIMITS.maxStatements}`, { statements: n, limit: SQL_INPUT_LIMITS.maxStatements });
  }
  const deep = outcome.statements.findIndex((s) => [s, ...(s.embedded?.statements ?? [])].some((t) => deeperThan(t.tree, SQL_INPUT_LIMITS.maxTreeDepth)));
  if (deep >= 0) {
    throw new AppError('SQL_TOO_COMPLEX', `input.statement: statement ${deep + 1} nests expressions too deeply (parse tree over ${SQL_INPUT_LIMITS.maxTreeDepth} levels)`, { statement: deep + 1 });
  }
  const analysis = analyzeSql(outcome.statements, opts);
  checkPlaceholders(analysis.placeholders, input.params?.length ?? 0);
  return analysis;
}

/** $1..$n each used, and exactly n params: a value without a placeholder, or a placeholder without a value, is a mistake. */
function checkPlaceholders(used: readonly number[], given: number): void {
  const highest = used.at(-1) ?? 0;
  if (given !== highest) {
    const uses = highest === 0 ? 'uses no placeholder' : `uses placeholders up to $${highest}`;
    throw new AppError('SQL_PARAMS_MISMATCH', `input.params: the statement ${uses} but ${given} param(s) were given`, { placeholders: highest, params: given });
  }
  const missing = Array.from({ length: highest }, (_, i) => i + 1).filter((i) => !used.includes(i));
  if (missing.length) {
    throw new AppError('SQL_PARAMS_MISMATCH', `input.statement: $${missing[0]} is never used, so PostgreSQL cannot tell its type; number the placeholders without gaps`, { missing });
  }
}

/** 1-based line and column (in characters) of a UTF-16 index. */
function lineColumn(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const lines = before.split('\n');
  return { line: lines.length, column: [...lines.at(-1)!].length + 1 };
}
