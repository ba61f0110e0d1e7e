import { loadModule, parsePlPgSQLSync, parseSync } from 'libpg-query';
import type { ParsedStatement, SqlNode, SqlParseOutcome } from '../../domain/sql-tree.js';
import type { SqlParser } from '../../ports/sql-parser.js';

/**
 * The SqlParser port over libpg-query: libpg_query (PostgreSQL 18's parser) compiled to
 * WASM. The module loads once (about 80 ms); each parse is then synchronous.
 */
export async function createPgQueryParser(): Promise<SqlParser> {
  await loadModule();
  return { parse };
}

function parse(sql: string): SqlParseOutcome {
  let result: { stmts?: Array<{ stmt?: SqlNode; stmt_location?: number; stmt_len?: number }> };
  try {
    result = parseSync(sql);
  } catch (e) {
    const err = e as { message?: string; sqlDetails?: { message?: string; cursorPosition?: number } };
    // Not the grammar's verdict but the binding running out of stack on deep nesting.
    if (!err.sqlDetails && e instanceof RangeError) return { ok: false, message: 'the statement nests too deeply to parse', position: 0 };
    const message = err.sqlDetails?.message ?? err.message ?? String(e);
    // The parser's cursor counts characters (code points), from 0.
    return { ok: false, message, position: codePointIndex(sql, err.sqlDetails?.cursorPosition ?? 0) };
  }
  const stmts = result.stmts ?? [];
  const ascii = isAscii(sql);
  const statements: ParsedStatement[] = [];
  for (const s of stmts) {
    if (!s.stmt) continue;
    // libpg_query locations are UTF-8 byte offsets; a missing length means "to the end".
    const startByte = s.stmt_location ?? 0;
    const start = ascii ? startByte : toIndex(sql, startByte);
    const end = s.stmt_len === undefined || s.stmt_len === 0 ? sql.length : ascii ? startByte + s.stmt_len : toIndex(sql, startByte + s.stmt_len);
    const statement: ParsedStatement = { tree: s.stmt, start, end };
    if ('DoStmt' in s.stmt) statement.embedded = doBody(sql.slice(start, end), s.stmt.DoStmt as SqlNode);
    statements.push(statement);
  }
  return { ok: true, statements };
}

/**
 * The SQL inside a DO block, through libpg_query's PL/pgSQL parser: every statement
 * (parse mode 0) as itself, every expression as `SELECT <expr>`, assignments by their
 * right-hand side. Dynamic SQL (EXECUTE, FOR ... EXECUTE, OPEN ... EXECUTE) is noted.
 */
function doBody(text: string, doStmt: SqlNode): NonNullable<ParsedStatement['embedded']> {
  const out: NonNullable<ParsedStatement['embedded']> = { statements: [], dynamic: false, opaque: false };
  const language = (Array.isArray(doStmt.args) ? doStmt.args : [])
    .map((a) => (a as { DefElem?: { defname?: string; arg?: { String?: { sval?: string } } } }).DefElem)
    .find((d) => d?.defname === 'language')?.arg?.String?.sval;
  if (language !== undefined && language.toLowerCase() !== 'plpgsql') return { ...out, opaque: true };
  let tree: unknown;
  try {
    tree = parsePlPgSQLSync(text);
  } catch {
    return { ...out, opaque: true };
  }
  // Depth first, in document order (children pushed in reverse), without recursion.
  const stack: Array<[string | undefined, unknown]> = [[undefined, tree]];
  while (stack.length) {
    const [key, v] = stack.pop()!;
    if (key === 'PLpgSQL_stmt_dynexecute' || key === 'PLpgSQL_stmt_dynfors' || key === 'dynquery') out.dynamic = true;
    if (key === 'PLpgSQL_expr') {
      const expr = v as { query?: string; parseMode?: number };
      const parsed = expr.query === undefined ? undefined : embeddedSql(expr.query, expr.parseMode ?? 0);
      if (parsed) out.statements.push(...parsed);
      else out.opaque = true;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const children: Array<[string | undefined, unknown]> = Array.isArray(v) ? (v as unknown[]).map((x) => [undefined, x]) : Object.entries(v);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
  return out;
}

/** One PL/pgSQL expression or statement, parsed: mode 0 is SQL, 2 an expression, 3-5 an assignment. */
function embeddedSql(query: string, mode: number): ParsedStatement[] | undefined {
  let sql = query;
  if (mode >= 3) {
    const at = query.indexOf(':=') >= 0 ? query.indexOf(':=') + 2 : query.indexOf('=') + 1;
    sql = `SELECT ${query.slice(at)}`;
  } else if (mode !== 0) sql = `SELECT ${query}`;
  const r = parse(sql);
  // Positions inside the body mean nothing to the input: only the trees are kept.
  return r.ok ? r.statements.map((s) => ({ ...s, start: 0, end: 0 })) : undefined;
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** The UTF-16 index of a UTF-8 byte offset. */
function toIndex(s: string, byteOffset: number): number {
  if (byteOffset <= 0) return 0;
  return Buffer.from(s, 'utf8').subarray(0, byteOffset).toString('utf8').length;
}

/** The UTF-16 index of the n-th code point. */
function codePointIndex(s: string, n: number): number {
  let i = 0;
  for (let c = 0; c < n && i < s.length; c++) i += (s.codePointAt(i) ?? 0) > 0xffff ? 2 : 1;
  return i;
}
