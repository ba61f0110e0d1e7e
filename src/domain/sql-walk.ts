import { functionName } from './sql-functions.js';
import type { SqlStatementType } from './sql-statement-types.js';
import type { SearchPath } from './sql-search-path.js';
import { DEFAULT_PATH, UNKNOWN_SCHEMA, pathAfterSetConfig } from './sql-search-path.js';
import { droppedRelations, statementType } from './sql-statement-types.js';
import { explainAnalyzes, isBareRangeVar, namesColumn } from './sql-walk-clauses.js';
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
  /** Prepared statements run (`EXECUTE p`, `EXPLAIN ANALYZE EXECUTE p`, `CREATE TABLE ... AS EXECUTE p`). */
  executes: string[];
  /** The search_path after the statement when a `set_config('search_path', ...)` in it moves it. */
  searchPath: SearchPath | undefined;
}

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
  readonly executes: string[] = [];
  searchPath: SearchPath | undefined;
  /** EXPLAIN without ANALYZE: the statement is planned, not run, so nothing is written. */
  planOnly = false;
  /** Each relation named, as its candidates (one per schema of the path for an unqualified name). */
  private readonly relations = new Map<string, string[]>();
  private readonly aliases = new Map<string, string[]>();
  private readonly ctes: Array<Set<string>> = [];

  /** `path`: the schemas where unqualified names may resolve (the search_path in force). */
  constructor(private readonly path: SearchPath) {}

  relation(v: unknown): string[] {
    const r = fieldsOf(v, 'RangeVar') ?? (isBareRangeVar(v) ? (v as SqlNode) : undefined);
    const relname = str(r?.relname);
    if (!r || relname === undefined) return [];
    const schema = str(r.schemaname);
    if (schema === undefined && this.ctes.some((s) => s.has(relname))) return [];
    const names = this.candidates(schema ?? (r.relpersistence === 't' ? 'pg_temp' : undefined), relname);
    const alias = str((r.alias as SqlNode | undefined)?.aliasname);
    this.aliases.set(alias ?? relname, names);
    return names;
  }

  private candidates(schema: string | undefined, name: string): string[] {
    const names = (schema === undefined ? this.path : [schema]).map((s) => `${s}.${name}`);
    this.relations.set(names.join(' '), names);
    return names;
  }

  read(v: unknown): void {
    for (const n of this.relation(v)) add(this.reads, n);
  }

  write(v: unknown): string[] {
    const names = this.relation(v);
    for (const n of names) add(this.planOnly ? this.reads : this.writes, n);
    return names;
  }

  writeName(parts: string[]): void {
    if (parts.length === 0) return;
    const names = parts.length === 1 ? this.candidates(undefined, parts[0]!) : this.candidates(parts.at(-2), parts.at(-1)!);
    for (const n of names) add(this.planOnly ? this.reads : this.writes, n);
  }

  /** A prepared statement run: opaque unless the input prepared it. */
  execute(f: SqlNode): void {
    if (!this.planOnly) {
      add(this.executes, str(f.name) ?? '');
      add(this.nestedTypes, 'execute');
    }
    this.visit(f.params);
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
          if (!this.planOnly) this.searchPath = pathAfterSetConfig(listOf(f.args), this.searchPath ?? this.path) ?? this.searchPath;
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
      case 'ExecuteStmt':
        this.execute(f);
        return;
      case 'CreateTableAsStmt':
        // Under EXPLAIN ANALYZE: it runs, creating its table.
        this.createTableAs(f);
        return;
      default:
        if (DML.has(type)) this.statement(type, f, true);
        else if (!OPAQUE.has(type)) this.visitExcept(f, []);
    }
  }

  createTableAs(f: SqlNode): void {
    this.write((f.into as SqlNode | undefined)?.rel);
    if (!this.planOnly) add(this.nestedTypes, statementType('CreateTableAsStmt', f));
    this.visit(f.query);
  }

  visitExcept(f: SqlNode, skip: readonly string[]): void {
    for (const [k, x] of Object.entries(f)) if (!skip.includes(k)) this.visit(x);
  }

  /** SELECT, INSERT, UPDATE, DELETE, MERGE, at the top or nested (CTEs, subqueries). */
  statement(type: string, f: SqlNode, nested: boolean): void {
    const names = listOf(fieldsOf(f.withClause, 'WithClause')?.ctes ?? (f.withClause as SqlNode | undefined)?.ctes).map((c) => str(fieldsOf(c, 'CommonTableExpr')?.ctename) ?? '');
    this.ctes.push(new Set(names));
    // The statement's own target first, then its CTEs: facts list what it writes, then what they do.
    const target = type === 'SelectStmt' ? [] : this.write(f.relation);
    this.visit(f.withClause);
    const skip = ['withClause'];
    if (type === 'SelectStmt') {
      if (f.intoClause) {
        this.write((f.intoClause as SqlNode).rel);
        if (nested && !this.planOnly) add(this.nestedTypes, 'select_into');
      }
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
  private setTarget(target: readonly string[], t: unknown): void {
    const rt = fieldsOf(t, 'ResTarget');
    if (!rt) return;
    const col = str(rt.name);
    if (col !== undefined && !this.planOnly) for (const table of target) add(this.written, `${table}.${col}`);
    this.visit(rt.val);
    this.visit(rt.indirection);
  }

  /** Columns as `schema.table.column` where the statement says which table; bare where several could be meant. */
  columns(): string[] {
    const out = [...this.written];
    const relations = [...this.relations.values()];
    for (const u of this.uses) {
      let tables: readonly string[] = [];
      if (u.qualifier.length >= 2) tables = [u.qualifier.slice(-2).join('.')];
      else if (u.qualifier.length === 1) tables = this.aliases.get(u.qualifier[0]!) ?? [];
      else if (relations.length === 1) tables = relations[0]!;
      else if (relations.length > 1) {
        add(out, u.column);
        continue;
      }
      // A column of a CTE, a subquery or a function's result: not a table's.
      for (const table of tables) add(out, `${table}.${u.column}`);
    }
    return out;
  }
}

/** Walks one top-level statement; unqualified names may resolve to any schema of `path`. */
export function walkStatement(nodeType: string, f: SqlNode, path: SearchPath = DEFAULT_PATH): StatementWalk {
  const w = new Walker(path);
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
      // Its own type is the statement's; `AS EXECUTE p` adds `execute`.
      w.write((f.into as SqlNode | undefined)?.rel);
      w.visit(f.query);
      break;
    case 'ExecuteStmt':
      w.execute(f);
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
      // The rule's actions run on later statements, this input's included: their writes count.
      w.write(f.relation);
      w.visit(f.whereClause);
      w.visit(f.actions);
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
    case 'CreateTrigStmt':
      // The trigger's function runs on later writes, this input's included.
      add(w.functions, functionName(stringsOf(f.funcname)));
      w.write(f.relation);
      w.visitExcept(f, ['relation', 'funcname']);
      break;
    case 'IndexStmt':
    case 'RefreshMatViewStmt':
    case 'RenameStmt':
    case 'AlterObjectSchemaStmt':
      w.write(f.relation);
      w.visitExcept(f, ['relation']);
      break;
    case 'TruncateStmt':
      for (const r of listOf(f.relations)) w.write(r);
      w.unbounded = true;
      // CASCADE empties the tables that reference these too, wherever they are.
      if (str(f.behavior) === 'DROP_CASCADE') add(w.writes, UNKNOWN_SCHEMA);
      break;
    case 'DropStmt':
      for (const parts of droppedRelations(f)) w.writeName(parts);
      // A schema's relations all go with it; CASCADE drops dependent objects anywhere.
      if (str(f.removeType) === 'OBJECT_SCHEMA') for (const o of listOf(f.objects)) add(w.writes, `${str(fieldsOf(o, 'String')?.sval) ?? UNKNOWN_SCHEMA}.*`);
      if (str(f.behavior) === 'DROP_CASCADE') add(w.writes, UNKNOWN_SCHEMA);
      break;
    case 'DropOwnedStmt':
    case 'DropdbStmt':
      add(w.writes, UNKNOWN_SCHEMA);
      break;
    case 'CreateSchemaStmt':
      // `CREATE SCHEMA s CREATE TABLE t ...`: its elements land in s.
      for (const e of listOf(f.schemaElts)) {
        const [type, ef] = nodeOf(e) ?? ['Unknown', {}];
        const inner = walkStatement(type, ef, [str(f.schemaname) ?? UNKNOWN_SCHEMA]);
        for (const x of inner.writes) add(w.writes, x);
        for (const x of inner.reads) add(w.reads, x);
        for (const x of inner.functions) add(w.functions, x);
      }
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
      w.planOnly = !explainAnalyzes(f.options);
      w.visit(f.query);
      break;
    case 'PrepareStmt':
      // Counted as if it ran: an EXECUTE in this input, or a later one on the same session, runs it.
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
    executes: w.executes,
    searchPath: w.searchPath,
  };
}

function add<T>(into: T[], x: T): void {
  if (!into.includes(x)) into.push(x);
}
