import { loadModule, parseSync } from 'libpg-query';
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
    statements.push({ tree: s.stmt, start, end });
  }
  return { ok: true, statements };
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
