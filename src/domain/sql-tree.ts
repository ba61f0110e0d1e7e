/**
 * PostgreSQL parse trees as libpg_query gives them (its JSON output): every node is an
 * object with one key, the node's type (`{"SelectStmt": {...}}`), lists are arrays.
 * The domain reads them as plain data; it never calls the parser.
 */

export type SqlNode = Record<string, unknown>;

/** One statement of the input, as the parser split it. */
export interface ParsedStatement {
  /** The statement's node: `{ SelectStmt: {...} }`, `{ DropStmt: {...} }`... */
  tree: SqlNode;
  /** Where the statement's text starts and ends in the input (UTF-16 indices, end exclusive). */
  start: number;
  end: number;
  /**
   * For a `DO` block in PL/pgSQL: the SQL its body runs (statements, and expressions as
   * `SELECT <expr>`), parsed by the same parser. `dynamic`: it also runs SQL built at
   * run time (EXECUTE), which no parse can see. `opaque`: some of it could not be read
   * (another language, an unparsable piece). Absent for every other statement.
   */
  embedded?: { statements: ParsedStatement[]; dynamic: boolean; opaque: boolean };
}

export type SqlParseOutcome =
  | { ok: true; statements: ParsedStatement[] }
  /** `position` is the 0-based UTF-16 index the parser points at. */
  | { ok: false; message: string; position: number };

/** The node type and its fields: `{SelectStmt: {...}}` -> ['SelectStmt', {...}]. */
export function nodeOf(v: unknown): [string, SqlNode] | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const k = keys[0]!;
  const inner = (v as SqlNode)[k];
  if (!/^[A-Z]/.test(k) || typeof inner !== 'object' || inner === null || Array.isArray(inner)) return undefined;
  return [k, inner as SqlNode];
}

export function fieldsOf(v: unknown, type: string): SqlNode | undefined {
  const n = nodeOf(v);
  return n && n[0] === type ? n[1] : undefined;
}

export function listOf(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  const items = fieldsOf(v, 'List')?.items;
  return Array.isArray(items) ? items : [];
}

/** `String` nodes' values (names in the parse tree are lists of them). */
export function stringsOf(v: unknown): string[] {
  const out: string[] = [];
  for (const x of listOf(v)) {
    const s = fieldsOf(x, 'String')?.sval;
    if (typeof s === 'string') out.push(s);
  }
  return out;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** True when the tree nests deeper than `max` levels (iterative: the check itself cannot overflow the stack). */
export function deeperThan(root: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const x of Array.isArray(v) ? (v as unknown[]) : Object.values(v)) if (typeof x === 'object' && x !== null) stack.push([x, depth + 1]);
  }
  return false;
}
