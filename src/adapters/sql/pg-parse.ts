// The previews' and the executor's only use of PostgreSQL's parser (libpg-query) and of
// its deparser (pgsql-deparser), kept in one file so that it can switch to the shared
// parser port (src/ports/sql-parser.ts) when that is merged.
import { parse } from 'libpg-query';
import { deparse as deparseTree } from 'pgsql-deparser';

/** A parse-tree node as libpg-query gives it: `{ UpdateStmt: {...} }`. */
export type PgNode = Record<string, unknown>;

export interface ParsedStatement {
  /** 0-based position in the input. */
  index: number;
  /** The node type: `UpdateStmt`, `SelectStmt`, `IndexStmt`... */
  nodeType: string;
  /** The node's fields (the value under `nodeType`). */
  node: Record<string, unknown>;
  /** The statement's own source text, exactly as written (no trailing semicolon). */
  text: string;
  /** The highest $n it references (0 when none). */
  maxParam: number;
}

/** Every node of a tree, depth first, with its type: `[type, fields]`. */
export function* walk(tree: unknown): Generator<[string, Record<string, unknown>]> {
  if (Array.isArray(tree)) {
    for (const x of tree) yield* walk(x);
    return;
  }
  if (tree === null || typeof tree !== 'object') return;
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      yield* walk(v);
      continue;
    }
    if (/^[A-Z]/.test(k)) yield [k, v as Record<string, unknown>];
    // A statement's own relation (UpdateStmt.relation, IntoClause.rel...) is a bare RangeVar, not wrapped in { RangeVar }.
    else if (typeof (v as { relname?: unknown }).relname === 'string') yield ['RangeVar', v as Record<string, unknown>];
    yield* walk(v);
  }
}

/** Splits and parses an input into its statements; throws the parser's error on bad SQL. */
export async function parseStatements(sql: string): Promise<ParsedStatement[]> {
  const result = await parse(sql);
  const bytes = Buffer.from(sql, 'utf8');
  // Locations are byte offsets into the UTF-8 input.
  return (result.stmts ?? []).map((s, index) => {
    const raw = s as unknown as { stmt: PgNode; stmt_location?: number; stmt_len?: number };
    const start = raw.stmt_location ?? 0;
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const [nodeType = 'Unknown', node = {}] = Object.entries(raw.stmt)[0] ?? [];
    let maxParam = 0;
    for (const [t, n] of walk(raw.stmt)) if (t === 'ParamRef' && typeof n.number === 'number') maxParam = Math.max(maxParam, n.number);
    return { index, nodeType, node: node as Record<string, unknown>, text: bytes.subarray(start, end).toString('utf8').trim(), maxParam };
  });
}

/** SQL text for a (rewritten) statement node such as `{ SelectStmt: {...} }`. */
export async function deparse(node: PgNode): Promise<string> {
  return deparseTree(node);
}

/** `schema.name` of a RangeVar node (schema as written, or null). */
export function rangeVarName(rv: unknown): { schema: string | null; name: string; alias: string | null } | null {
  if (!rv || typeof rv !== 'object') return null;
  const r = rv as { schemaname?: string; relname?: string; alias?: { aliasname?: string } };
  if (!r.relname) return null;
  return { schema: r.schemaname ?? null, name: r.relname, alias: r.alias?.aliasname ?? null };
}

/** A DML statement's RETURNING expressions, if it has any (PostgreSQL 18's tree: `returningClause.exprs`). */
export function returningOf(node: Record<string, unknown>): unknown[] | null {
  const clause = node.returningClause as { exprs?: unknown[] } | undefined;
  const list = clause?.exprs ?? (node.returningList as unknown[] | undefined);
  return list && list.length > 0 ? list : null;
}

/** The names of a FuncCall (`['pg_catalog', 'nextval']`). */
export function funcName(fc: Record<string, unknown>): string[] {
  const parts = (fc.funcname as Array<{ String?: { sval?: string } }> | undefined) ?? [];
  return parts.map((p) => p.String?.sval ?? '');
}
