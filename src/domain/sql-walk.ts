import { functionName } from './sql-functions.js';
import type { SqlStatementType } from './sql-statement-types.js';
import { droppedRelations } from './sql-statement-types.js';
import type { SqlNode } from './sql-tree.js';
import { fieldsOf, listOf, nodeOf, str, stringsOf } from './sql-tree.js';

/** What one statement's parse tree names: relations, functions, columns, placeholders. */
export interface StatementWalk {
  /** Relations read, schema-qualified; a relation both read and written is in both. */
  reads: string[];
  writes: string[];
  functions: string[];
  columns: string[];
  params: number[];
  /** Data-modifying statements inside this one (a CTE's DELETE, EXPLAIN ANALYZE's UPDATE). */
  nestedTypes: SqlStatementType[];
  /** An UPDATE or DELETE (anywhere) without a WHERE naming a column, or a TRUNCATE. */
  unbounded: boolean;
  /** SELECT ... FOR UPDATE/SHARE: rows are marked, which is a write. */
  locks: boolean;
  /** `set_config('role', ...)` or `set_config('session_authorization', ...)`: SET ROLE by another name. */
  setsRole: boolean;
  /** The top statement (SELECT, UPDATE, DELETE) has a WHERE naming a column. */
  topWhere: boolean;
}

/**
 * Unqualified names resolve to `public`: the default search_path (`"$user", public`)
 * with no schema named after the role. Temporary relations created here are `pg_temp`.
 */
export const DEFAULT_SCHEMA = 'public';

const NESTED_TYPES: Record<string, SqlStatementType> = { InsertStmt: 'insert', UpdateStmt: 'update', DeleteStmt: 'delete', MergeStmt: 'merge' };
const DML = new Set(['SelectStmt', ...Object.keys(NESTED_TYPES)]);
/** Their bodies run later (or never), as another statement: not part of this one's effect. */
const OPAQUE = new Set(['CreateFunctionStmt', 'DoStmt']);

interface ColumnUse {
  qualifier: string[];
  column: string;
}

class Walker {
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  readonly functions: string[] = [];
  readonly written: string[] = [];
  readonly uses: ColumnUse[] = [];
  readonly params = new Set<number>();
  readonly nestedTypes: SqlStatementType[] = [];
  unbounded = false;
  locks = false;
  setsRole = false;
  topWhere = false;
  /** EXPLAIN without ANALYZE and PREPARE: the statement is planned, not run, so nothing is written. */
  planOnly = false;
  private readonly aliases = new Map<string, string>();
  private readonly ctes: Array<Set<string>> = [];

  /** `schema`: where unqualified names resolve (the first schema of the search_path in force). */
  constructor(private readonly schema: string) {}

  relation(v: unknown): string | undefined {
    const r = fieldsOf(v, 'RangeVar') ?? (isBareRangeVar(v) ? (v as SqlNode) : undefined);
    const relname = str(r?.relname);
    if (!r || relname === undefined) return undefined;
    const schema = str(r.schemaname);
    if (schema === undefined && this.ctes.some((s) => s.has(relname))) return undefined;
    const name = `${schema ?? (r.relpersistence === 't' ? 'pg_temp' : this.schema)}.${relname}`;
    const alias = str((r.alias as SqlNode | undefined)?.aliasname);
    this.aliases.set(alias ?? relname, name);
    return name;
  }

  read(v: unknown): void {
    const n = this.relation(v);
    if (n !== undefined) add(this.reads, n);
  }

  write(v: unknown): string | undefined {
    const n = this.relation(v);
    if (n !== undefined) add(this.planOnly ? this.reads : this.writes, n);
    return n;
  }

  writeName(parts: string[]): void {
    if (parts.length === 0) return;
    const name = parts.length === 1 ? `${this.schema}.${parts[0]}` : parts.slice(-2).join('.');
    add(this.planOnly ? this.reads : this.writes, name);
  }

  /** Any node: relations read, functions, columns, placeholders; nested DML handled as statements. */
  visit(v: unknown): void {
    if (Array.isArray(v)) {
      for (const x of v) this.visit(x);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const n = nodeOf(v);
    if (!n) {
      if (isBareRangeVar(v)) this.read(v);
      else for (const x of Object.values(v)) this.visit(x);
      return;
    }
    const [type, f] = n;
    switch (type) {
      case 'RangeVar':
        this.read(v);
        return;
      case 'FuncCall': {
        const name = functionName(stringsOf(f.funcname));
        add(this.functions, name);
        if (name === 'set_config') {
          const setting = str((fieldsOf(listOf(f.args)[0], 'A_Const')?.sval as SqlNode | undefined)?.sval)?.toLowerCase();
          // Not a constant: it could name the role setting.
          if (setting === undefined || setting === 'role' || setting === 'session_authorization') this.setsRole = true;
        }
        this.visitExcept(f, ['funcname']);
        return;
      }
      case 'ColumnRef': {
        const fields = listOf(f.fields);
        const names = fields.map((x) => (fieldsOf(x, 'A_Star') ? '*' : str(fieldsOf(x, 'String')?.sval) ?? '?'));
        const column = names.pop();
        if (column !== undefined) this.uses.push({ qualifier: names, column });
        return;
      }
      case 'ParamRef':
        if (typeof f.number === 'number') this.params.add(f.number);
        return;
      default:
        if (DML.has(type)) this.statement(type, f, true);
        else if (!OPAQUE.has(type)) this.visitExcept(f, []);
    }
  }

  visitExcept(f: SqlNode, skip: readonly string[]): void {
    for (const [k, x] of Object.entries(f)) if (!skip.includes(k)) this.visit(x);
  }

  /** SELECT, INSERT, UPDATE, DELETE, MERGE, at the top or nested (CTEs, subqueries). */
  statement(type: string, f: SqlNode, nested: boolean): void {
    const names = listOf(fieldsOf(f.withClause, 'WithClause')?.ctes ?? (f.withClause as SqlNode | undefined)?.ctes).map((c) => str(fieldsOf(c, 'CommonTableExpr')?.ctename) ?? '');
    this.ctes.push(new Set(names));
    // The statement's own target first, then its CTEs: facts list what it writes, then what they do.
    const target = type === 'SelectStmt' ? undefined : this.write(f.relation);
    this.visit(f.withClause);
    const skip = ['withClause'];
    if (type === 'SelectStmt') {
      if (f.intoClause) this.write((f.intoClause as SqlNode).rel);
      if (f.lockingClause) this.locks = true;
      skip.push('intoClause');
      if (!nested) this.topWhere = namesColumn(f.whereClause);
    } else {
      skip.push('relation', 'cols', 'targetList', 'mergeWhenClauses');
      for (const t of [...listOf(f.cols), ...listOf(f.targetList)]) this.setTarget(target, t);
      for (const w of listOf(f.mergeWhenClauses)) {
        const mw = fieldsOf(w, 'MergeWhenClause');
        if (!mw) continue;
        for (const t of listOf(mw.targetList)) this.setTarget(target, t);
        this.visitExcept(mw, ['targetList']);
      }
      if (type === 'UpdateStmt' || type === 'DeleteStmt') {
        const bounded = namesColumn(f.whereClause);
        if (!bounded && !this.planOnly) this.unbounded = true;
        if (!nested) this.topWhere = bounded;
      }
      if (nested && !this.planOnly) add(this.nestedTypes, NESTED_TYPES[type]!);
    }
    this.visitExcept(f, skip);
    this.ctes.pop();
  }

  /** An UPDATE's `SET col = ...`, an INSERT's column list: the column is written, its value read. */
  private setTarget(target: string | undefined, t: unknown): void {
    const rt = fieldsOf(t, 'ResTarget');
    if (!rt) return;
    const col = str(rt.name);
    if (col !== undefined && target !== undefined && !this.planOnly) add(this.written, `${target}.${col}`);
    this.visit(rt.val);
    this.visit(rt.indirection);
  }

  /** Columns as `schema.table.column` where the statement says which table; bare where several could be meant. */
  columns(): string[] {
    const out = [...this.written];
    const tables = [...this.writes, ...this.reads.filter((r) => !this.writes.includes(r))];
    for (const u of this.uses) {
      let table: string | undefined;
      if (u.qualifier.length >= 2) table = u.qualifier.slice(-2).join('.');
      else if (u.qualifier.length === 1) table = this.aliases.get(u.qualifier[0]!);
      else if (tables.length === 1) table = tables[0];
      else if (tables.length > 1) {
        add(out, u.column);
        continue;
      }
      // A column of a CTE, a subquery or a function's result: not a table's.
      if (table !== undefined) add(out, `${table}.${u.column}`);
    }
    return out;
  }
}

/**
 * Where unqualified names resolve after this statement: a `SET search_path` earlier in
 * the same input moves them (its first schema, `"$user"` skipped), so that
 * `SET search_path TO billing; DROP TABLE invoices` names billing.invoices.
 */
export function searchPathAfter(nodeType: string, f: SqlNode, current: string): string {
  if (nodeType !== 'VariableSetStmt') return current;
  const kind = str(f.kind);
  if (kind === 'VAR_RESET_ALL') return DEFAULT_SCHEMA;
  if (str(f.name)?.toLowerCase() !== 'search_path') return current;
  if (kind !== 'VAR_SET_VALUE') return DEFAULT_SCHEMA;
  const names = listOf(f.args)
    .map((a) => str((fieldsOf(a, 'A_Const')?.sval as SqlNode | undefined)?.sval) ?? '')
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter((v) => v !== '' && v !== '$user');
  return names[0] ?? DEFAULT_SCHEMA;
}

/** Walks one top-level statement; unqualified names resolve to `schema`. */
export function walkStatement(nodeType: string, f: SqlNode, schema: string = DEFAULT_SCHEMA): StatementWalk {
  const w = new Walker(schema);
  switch (nodeType) {
    case 'SelectStmt':
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      w.statement(nodeType, f, false);
      break;
    case 'CreateStmt':
      w.write(f.relation);
      for (const parent of listOf(f.inhRelations)) w.write(parent);
      w.visitExcept(f, ['relation', 'inhRelations']);
      break;
    case 'CreateForeignTableStmt': {
      const base = (f.base ?? {}) as SqlNode;
      w.write(base.relation);
      w.visitExcept(base, ['relation']);
      break;
    }
    case 'CreateTableAsStmt':
      w.write((f.into as SqlNode | undefined)?.rel);
      w.visit(f.query);
      break;
    case 'ViewStmt':
      w.write(f.view);
      w.visit(f.query);
      break;
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      w.write(f.table);
      w.visitExcept(f, ['table']);
      break;
    case 'CreateSeqStmt':
    case 'AlterSeqStmt':
      w.write(f.sequence);
      break;
    case 'RuleStmt':
      // The rule's actions run later, on other statements.
      w.write(f.relation);
      w.visit(f.whereClause);
      break;
    case 'AlterTableStmt':
      w.write(f.relation);
      for (const c of listOf(f.cmds)) {
        const cmd = fieldsOf(c, 'AlterTableCmd');
        const part = fieldsOf(cmd?.def, 'PartitionCmd');
        if (part) w.write(part.name);
        else w.visit(c);
      }
      break;
    case 'IndexStmt':
    case 'CreateTrigStmt':
    case 'RefreshMatViewStmt':
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt':
      w.write(f.relation);
      w.visitExcept(f, ['relation']);
      break;
    case 'TruncateStmt':
      for (const r of listOf(f.relations)) w.write(r);
      w.unbounded = true;
      break;
    case 'DropStmt':
      for (const parts of droppedRelations(f)) w.writeName(parts);
      break;
    case 'CopyStmt':
      if (f.is_from === true) w.write(f.relation);
      else w.read(f.relation);
      w.visitExcept(f, ['relation']);
      break;
    case 'CallStmt': {
      // The procedure's call is written without its FuncCall wrapper.
      const call = (f.funccall ?? {}) as SqlNode;
      w.visit({ FuncCall: call });
      break;
    }
    case 'GrantStmt':
      // Privileges on a relation change the relation (its ACL).
      if (str(f.targtype) === 'ACL_TARGET_OBJECT') for (const o of listOf(f.objects)) w.write(o);
      break;
    case 'ExplainStmt':
    case 'PrepareStmt':
      w.planOnly = nodeType === 'PrepareStmt' || !explainAnalyzes(f.options);
      w.visit(f.query);
      break;
    default:
      if (!OPAQUE.has(nodeType)) w.visit(f);
  }
  return {
    reads: w.reads,
    writes: w.writes,
    functions: w.functions,
    columns: w.columns(),
    params: [...w.params],
    nestedTypes: w.nestedTypes,
    unbounded: w.unbounded,
    locks: w.locks,
    setsRole: w.setsRole,
    topWhere: w.topWhere,
  };
}

/** EXPLAIN ANALYZE runs the statement; `(ANALYZE false)` does not. */
function explainAnalyzes(options: unknown): boolean {
  for (const o of listOf(options)) {
    const d = fieldsOf(o, 'DefElem');
    if (str(d?.defname) !== 'analyze') continue;
    const arg = nodeOf(d?.arg);
    if (!arg) return true;
    const [kind, v] = arg;
    if (kind === 'Boolean') return v.boolval === true;
    if (kind === 'Integer') return typeof v.ival === 'number' && v.ival !== 0;
    return !['false', 'off', 'no', '0'].includes(str(v.sval)?.toLowerCase() ?? 'false');
  }
  return false;
}

/** A WHERE naming no column (`WHERE true`, `WHERE 1 = 1`, `WHERE $1`) keeps or drops every row alike. */
function namesColumn(where: unknown): boolean {
  if (where === undefined) return false;
  const stack: unknown[] = [where];
  while (stack.length) {
    const v: unknown = stack.pop();
    if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (typeof v === 'object' && v !== null) {
      const n = nodeOf(v);
      if (n && (n[0] === 'ColumnRef' || n[0] === 'CurrentOfExpr')) return true;
      stack.push(...(Object.values(v) as unknown[]));
    }
  }
  return false;
}

/** A RangeVar written without its node wrapper (a statement's `relation` field). */
function isBareRangeVar(v: unknown): boolean {
  return typeof v === 'object' && v !== null && typeof (v as SqlNode).relname === 'string' && 'relpersistence' in v;
}

function add<T>(into: T[], x: T): void {
  if (!into.includes(x)) into.push(x);
}
