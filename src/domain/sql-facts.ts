import { SAFE_FUNCTIONS } from './sql-functions.js';
import type { SqlStatementType } from './sql-statement-types.js';
import { isDdl, isPrivilege, statementType } from './sql-statement-types.js';
import type { ParsedStatement, SqlNode } from './sql-tree.js';
import { nodeOf, str, stringsOf } from './sql-tree.js';
import type { SearchPath } from './sql-search-path.js';
import { DEFAULT_PATH, UNKNOWN_SCHEMA, either, pathAfterSet } from './sql-search-path.js';
import { walkStatement } from './sql-walk.js';
import type { StatementWalk } from './sql-walk.js';

/** Facts about one statement (`sql.statements[i]`). */
export interface SqlStatementFacts {
  type: SqlStatementType;
  /** Relations read or written, schema-qualified (`public.users`). */
  tables: string[];
  /** Relations written: rows, definition or privileges. */
  writes: string[];
  /** True when the statement has a WHERE that names a column (`WHERE true`, `WHERE 1 = 1` do not count). */
  where: boolean;
  /** The LIMIT (or FETCH FIRST) when it is a constant; null when there is none or it is not a constant. */
  limit: number | null;
  /** Functions called, as written (lower-case, `pg_catalog.` dropped): `now`, `nextval`, `billing.touch`. */
  functions: string[];
}

/** The facts policy sees as `sql.*`, the same for every way in (API, CLI policy commands). */
export interface SqlFacts {
  statements: SqlStatementFacts[];
  types: SqlStatementType[];
  tables: string[];
  writes: string[];
  reads: string[];
  readOnly: boolean;
  ddl: boolean;
  privilege: boolean;
  export: boolean;
  unbounded: boolean;
  columns: string[];
  /**
   * The input runs SQL no parse can see: a DO block building SQL at run time (EXECUTE) or
   * not readable (another language), EXECUTE of a statement not prepared in the input, or
   * a call of a function the input creates (its body is not analysed), directly or
   * through a trigger the input creates on a table it then writes.
   * It is then taken as able to do anything (see DYNAMIC_TYPES).
   */
  dynamic: boolean;
}

/**
 * What a dynamic input adds to `sql.types`, so that rules written on types fail closed
 * (`t.startsWith("drop_")` fires); its tables and writes get `*` (any relation).
 */
export const DYNAMIC_TYPES: readonly SqlStatementType[] = ['other', 'create_other', 'alter_other', 'drop_other'];

/** `limits.exportRows` when a target does not set it. */
export const DEFAULT_EXPORT_ROWS = 1000;

export interface SqlFactOptions {
  /** A SELECT reading a table without a LIMIT, or with one above this, is an export. */
  exportRows: number;
  /** The search_path in force before the input (a wire session's `SET search_path`); the default path when absent. */
  searchPath?: SearchPath;
}

export interface SqlAnalysis {
  facts: SqlFacts;
  /** Every `$n` used, sorted: checked against the params given. */
  placeholders: number[];
}

/** Facts of a whole input, from its parse trees. Pure: the parse happens elsewhere (SqlParser). */
export function analyzeSql(statements: readonly ParsedStatement[], opts: SqlFactOptions): SqlAnalysis {
  const { facts, placeholders } = analyze(statements, opts, { path: opts.searchPath ?? DEFAULT_PATH, prepared: new Set(), created: new Set(), armed: false, conditional: false });
  if (facts.dynamic) {
    addAll(facts.types, DYNAMIC_TYPES);
    addAll(facts.tables, [UNKNOWN_SCHEMA]);
    addAll(facts.writes, [UNKNOWN_SCHEMA]);
    Object.assign(facts, { readOnly: false, ddl: true, privilege: true, export: true, unbounded: true });
  }
  return { facts, placeholders };
}

/** What a statement leaves for the next ones: the search_path, the statements prepared. */
interface Session {
  path: SearchPath;
  prepared: Set<string>;
  /** Functions and procedures the input creates (last part of the name): calling one runs code no parse saw. */
  created: Set<string>;
  /** A trigger runs a created function: any later write may fire it. */
  armed: boolean;
  /** Inside a DO body, where a statement may not run (an IF): a path change adds candidates, it replaces none. */
  conditional: boolean;
}

function analyze(statements: readonly ParsedStatement[], opts: SqlFactOptions, session: Session): SqlAnalysis & { path: SearchPath } {
  const facts: SqlFacts = {
    statements: [],
    types: [],
    tables: [],
    writes: [],
    reads: [],
    readOnly: true,
    ddl: false,
    privilege: false,
    export: false,
    unbounded: false,
    columns: [],
    dynamic: false,
  };
  const params = new Set<number>();
  for (const s of statements) {
    const one = statementFacts(s.tree, opts, session.path);
    const [nodeType, fields] = nodeOf(s.tree) ?? ['Unknown', {}];
    const before = session.path;
    let path = pathAfterSet(nodeType, fields, one.walk.searchPath ?? before);
    if (session.conditional) path = either(path, before);
    session.path = path;
    if (s.embedded) {
      const body = analyze(s.embedded.statements, opts, { ...session, conditional: true });
      withBody(one, body.facts);
      session.path = body.path;
      facts.dynamic ||= s.embedded.dynamic || s.embedded.opaque || body.facts.dynamic;
    }
    if (nodeType === 'PrepareStmt') session.prepared.add(str(fields.name) ?? '');
    facts.dynamic ||= one.walk.executes.some((p) => !session.prepared.has(p));
    const callsCreated = one.facts.functions.some((fn) => session.created.has(fn.split('.').at(-1)!));
    if (nodeType === 'CreateTrigStmt') session.armed ||= callsCreated;
    else facts.dynamic ||= callsCreated || (session.armed && one.facts.writes.length > 0);
    if (nodeType === 'CreateFunctionStmt') session.created.add(stringsOf(fields.funcname).at(-1) ?? '');
    facts.statements.push(one.facts);
    addAll(facts.types, [one.facts.type, ...one.walk.nestedTypes]);
    addAll(facts.tables, one.facts.tables);
    addAll(facts.writes, one.facts.writes);
    addAll(facts.reads, one.reads);
    addAll(facts.columns, one.walk.columns);
    facts.readOnly &&= one.readOnly;
    facts.ddl ||= one.ddl;
    facts.privilege ||= one.privilege;
    facts.export ||= one.export;
    facts.unbounded ||= one.walk.unbounded;
    for (const p of one.walk.params) params.add(p);
  }
  return { facts, placeholders: [...params].sort((a, b) => a - b), path: session.path };
}

interface OneStatement {
  facts: SqlStatementFacts;
  reads: string[];
  walk: StatementWalk;
  readOnly: boolean;
  ddl: boolean;
  privilege: boolean;
  export: boolean;
}

function statementFacts(tree: SqlNode, opts: SqlFactOptions, path: SearchPath): OneStatement {
  const [nodeType, f] = nodeOf(tree) ?? ['Unknown', {}];
  const type = statementType(nodeType, f);
  const walk = walkStatement(nodeType, f, path);
  const tables = [...walk.writes];
  addAll(tables, walk.reads);
  const where = nodeType === 'SelectStmt' || nodeType === 'UpdateStmt' || nodeType === 'DeleteStmt' ? walk.topWhere : false;
  const limit = nodeType === 'SelectStmt' ? constantLimit(f.limitCount) : null;
  const facts: SqlStatementFacts = { type, tables, writes: [...walk.writes], where, limit, functions: walk.functions };
  return {
    facts,
    reads: walk.reads,
    walk,
    readOnly: readOnly(nodeType, f, walk),
    ddl: isDdl(type) || walk.nestedTypes.some(isDdl),
    privilege: isPrivilege(type, nodeType, f) || walk.setsRole,
    export: isExport(nodeType, f, walk, limit, opts) || (nodeType === 'DeclareCursorStmt' && isExportQuery(f.query, walk, opts)),
  };
}

/** Statements that cannot change data, schema, roles or settings when nothing inside them does. */
const READ_ONLY_NODES = new Set(['SelectStmt', 'VariableShowStmt', 'FetchStmt', 'ClosePortalStmt', 'DeclareCursorStmt']);
const READ_ONLY_TRANSACTION = new Set(['TRANS_STMT_BEGIN', 'TRANS_STMT_START', 'TRANS_STMT_COMMIT', 'TRANS_STMT_ROLLBACK', 'TRANS_STMT_SAVEPOINT', 'TRANS_STMT_RELEASE', 'TRANS_STMT_ROLLBACK_TO']);

function readOnly(nodeType: string, f: SqlNode, w: StatementWalk): boolean {
  // A function outside the allow-list, a write anywhere (a data-modifying CTE, SELECT
  // INTO) or a row lock (FOR UPDATE marks rows) makes any statement more than a read.
  const inner = w.writes.length === 0 && w.nestedTypes.length === 0 && !w.locks && w.functions.every((fn) => SAFE_FUNCTIONS.has(fn));
  switch (nodeType) {
    case 'ExplainStmt':
    case 'CopyStmt':
      // EXPLAIN without ANALYZE plans only (the walk saw no writes); EXPLAIN ANALYZE of anything
      // but a read has its statement's type in nestedTypes (CREATE TABLE AS, EXECUTE); COPY TO STDOUT reads,
      // COPY TO a file or a program acts on the server's machine.
      return inner && (nodeType === 'ExplainStmt' || (f.is_from !== true && f.filename === undefined && f.is_program !== true));
    case 'TransactionStmt':
      return READ_ONLY_TRANSACTION.has(str(f.kind) ?? '');
    default:
      return READ_ONLY_NODES.has(nodeType) && inner;
  }
}

function isExport(nodeType: string, f: SqlNode, w: StatementWalk, limit: number | null, opts: SqlFactOptions): boolean {
  if (nodeType === 'CopyStmt') return f.is_from !== true;
  if (nodeType !== 'SelectStmt' || f.intoClause) return false;
  return w.reads.length > 0 && (limit === null || limit > opts.exportRows) && !singleRowAggregate(f);
}

function isExportQuery(query: unknown, w: StatementWalk, opts: SqlFactOptions): boolean {
  const q = nodeOf(query);
  if (!q || q[0] !== 'SelectStmt') return false;
  return isExport('SelectStmt', q[1], w, constantLimit(q[1].limitCount), opts);
}

/** Aggregates that return one scalar for any number of rows (array_agg and string_agg carry the rows: not here). */
const SCALAR_AGGREGATES = new Set(['count', 'sum', 'avg', 'min', 'max', 'bool_and', 'bool_or', 'every']);

/** `SELECT count(*) FROM t`: one row whatever the table holds, so not an export. */
function singleRowAggregate(f: SqlNode): boolean {
  if (f.groupClause || f.op !== 'SETOP_NONE' || !Array.isArray(f.targetList) || f.targetList.length === 0) return false;
  return f.targetList.every((t) => {
    const val = nodeOf(t)?.[1].val;
    const fn = nodeOf(val);
    if (!fn || fn[0] !== 'FuncCall' || fn[1].over) return false;
    const name = (Array.isArray(fn[1].funcname) ? fn[1].funcname : []).map((n) => str(nodeOf(n)?.[1].sval)).join('.');
    return SCALAR_AGGREGATES.has(name.replace(/^pg_catalog\./, ''));
  });
}

/** A LIMIT / FETCH FIRST given as a number; `LIMIT ALL`, `LIMIT $1` or an expression give null. */
function constantLimit(v: unknown): number | null {
  const c = nodeOf(v);
  if (!c || c[0] !== 'A_Const' || c[1].isnull === true) return null;
  const ival = c[1].ival as { ival?: number } | undefined;
  if (ival) return ival.ival ?? 0;
  const fval = str((c[1].fval as { fval?: string } | undefined)?.fval);
  return fval === undefined ? null : Number(fval);
}

/**
 * A DO block's facts include what its body runs: the relations, functions and types of
 * its SQL. Rows it reads stay in the database (not an export); it is never read-only.
 */
function withBody(one: OneStatement, body: SqlFacts): void {
  addAll(one.facts.tables, body.tables);
  addAll(one.facts.writes, body.writes);
  addAll(one.facts.functions, body.statements.flatMap((st) => st.functions));
  addAll(one.reads, body.reads);
  addAll(one.walk.columns, body.columns);
  for (const t of body.types) if (t !== 'select' && !one.walk.nestedTypes.includes(t)) one.walk.nestedTypes.push(t);
  one.readOnly = false;
  one.ddl ||= body.ddl;
  one.privilege ||= body.privilege;
  one.walk.unbounded ||= body.unbounded;
}

function addAll(into: string[], xs: readonly string[]): void {
  for (const x of xs) if (!into.includes(x)) into.push(x);
}
