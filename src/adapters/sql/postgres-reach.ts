import type { Queryable } from './postgres-catalog.js';
import { asText } from './postgres-catalog.js';
import type { ParsedStatement } from './pg-parse.js';
import { funcName, parseStatements, rangeVarName, walk } from './pg-parse.js';
import { riskyFunction, VOLATILE_BUT_UNDONE } from './sql-no-preview.js';

/**
 * The code a preview would run that the statements do not show, judged from the
 * catalog and fail closed: functions, operators and casts called directly or through
 * views, RLS policies, triggers, rules, column defaults, generated columns and CHECK
 * constraints of every table written (also through auto-updatable views, foreign keys'
 * ON DELETE/UPDATE actions, partitions and inheritance), implicit and assignment casts,
 * and the operator classes and constraint operators a write to those tables runs. Names are judged as parsed
 * (a `U&"nextv\0061l"` is `nextval`), never as text.
 *
 * A function outside pg_catalog (or information_schema) is code the gateway does not
 * read: it may advance a sequence, take a session lock or reach another server, none of
 * which a rollback undoes. Any such name reachable skips the preview, whatever the
 * overload PostgreSQL would pick.
 */

const SYSTEM = `('pg_catalog', 'information_schema')`;
/** DefineStmt options (CREATE OPERATOR, AGGREGATE...) that name a function later statements may run. */
const FUNCTION_OPTIONS = new Set(['function', 'procedure', 'sfunc', 'finalfunc', 'combinefunc', 'serialfunc', 'deserialfunc', 'msfunc', 'minvfunc', 'mfinalfunc', 'restrict', 'join']);
// Names as parsed: PostgreSQL already folded unquoted ones to lower case, and a quoted "Bump" is a
// different function from bump, which the catalog lookups below must find by its own name.
const lastName = (list: unknown) => (list as Array<{ String?: { sval?: string } }> | undefined)?.at(-1)?.String?.sval ?? '';
/** Operators a node uses without naming them in an A_Expr (a comparison PostgreSQL picks from the types' default operators). */
const IMPLICIT_OPERATORS: Record<string, string[]> = { CaseExpr: ['='], MinMaxExpr: ['<', '>'], SortBy: ['<', '>'], SubLink: ['='] };
const INSERTING = new Set(['InsertStmt', 'MergeStmt']);
/** Statements that fire no event trigger (everything else is DDL or a utility command that may). */
const PLAIN = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'VariableSetStmt', 'VariableShowStmt', 'TransactionStmt']);
const WRITING = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

interface Found {
  functions: Set<string>;
  operators: Set<string>;
  casts: boolean;
  /** Type names cast to (`x::t`, `CAST(x AS t)`, `t 'literal'`): their input runs, a range's comparisons with it. */
  castTypes: Set<string>;
  /** Relation names as written (`JSON [schema|null, name]`), with whether they are written and whether rows are inserted (defaults run). */
  relations: Map<string, { written: boolean; inserts: boolean }>;
}

const emptyFound = (): Found => ({ functions: new Set(), operators: new Set(), casts: false, castTypes: new Set(), relations: new Map() });

function addRelation(f: Found, name: string, written: boolean, inserts: boolean) {
  const had = f.relations.get(name);
  f.relations.set(name, { written: written || (had?.written ?? false), inserts: inserts || (had?.inserts ?? false) });
}

/** What one tree calls and names. `written`: every relation in it counts as written (a rule's actions, a written view's body). */
function collect(tree: unknown, f: Found, opts: { written: boolean; inserts: boolean }) {
  const ctes = new Set<string>();
  for (const [t, n] of walk(tree)) if (t === 'CommonTableExpr' && typeof n.ctename === 'string') ctes.add(n.ctename);
  const targets = new Map<unknown, { inserts: boolean }>();
  for (const [t, n] of walk(tree)) {
    if (WRITING.has(t) && n.relation) targets.set(n.relation, { inserts: INSERTING.has(t) || [...walk(n)].some(([k]) => k === 'SetToDefault') });
    if (t === 'TruncateStmt') for (const r of (n.relations as Array<{ RangeVar?: unknown }> | undefined) ?? []) targets.set(r.RangeVar, { inserts: false });
  }
  for (const [t, n] of walk(tree)) {
    if (t === 'FuncCall') f.functions.add(funcName(n).at(-1) ?? '');
    // Code the input attaches and later statements run: not in the catalog yet when this check reads it.
    else if (t === 'CreateTrigStmt' || t === 'CreateEventTrigStmt') f.functions.add(lastName(n.funcname));
    else if (t === 'CreateCastStmt') f.functions.add(lastName((n.func as { objname?: unknown } | undefined)?.objname));
    else if (t === 'DefElem' && typeof n.defname === 'string' && FUNCTION_OPTIONS.has(n.defname.toLowerCase())) {
      const arg = n.arg as { TypeName?: { names?: unknown }; List?: { items?: unknown } } | undefined;
      f.functions.add(lastName(arg?.TypeName?.names ?? arg?.List?.items));
    }
    else if (t === 'A_Expr') {
      const name = lastName(n.name);
      // BETWEEN is written as one A_Expr named BETWEEN (NOT BETWEEN, ... SYMMETRIC): it runs the comparisons.
      if (/BETWEEN/.test(name)) for (const op of ['>=', '<=', '<', '>']) f.operators.add(op);
      else if (name) f.operators.add(name);
    } else if (t === 'TypeCast') {
      f.casts = true;
      f.castTypes.add(lastName((n.typeName as { names?: unknown } | undefined)?.names));
    }
    else if (t in IMPLICIT_OPERATORS) {
      // An explicit operator (x = ANY (SELECT ...), ORDER BY a USING <<<) by its name; otherwise the comparisons it implies.
      const named = lastName(t === 'SubLink' ? n.operName : t === 'SortBy' ? n.useOp : undefined);
      if (named) f.operators.add(named);
      else if (t === 'SubLink' ? /^(ANY|ALL|ROWCOMPARE)_SUBLINK$/.test(String(n.subLinkType)) : t !== 'CaseExpr' || n.arg) {
        for (const op of IMPLICIT_OPERATORS[t]!) f.operators.add(op);
      }
    } else if (t === 'SelectStmt' && (n.distinctClause || n.groupClause)) for (const op of ['=', '<']) f.operators.add(op);
    else if (t === 'JoinExpr' && n.usingClause) f.operators.add('=');
    else if (t === 'RangeVar') {
      const rv = rangeVarName(n);
      if (!rv || (rv.schema === null && ctes.has(rv.name))) continue;
      const target = targets.get(n);
      addRelation(f, JSON.stringify([rv.schema, rv.name]), opts.written || target !== undefined, opts.inserts || (target?.inserts ?? false));
    }
  }
}

async function collectExpression(expr: string, f: Found, opts: { written: boolean; inserts: boolean }) {
  if (!expr) return;
  const parsed = await parseStatements(`SELECT ${expr}`);
  collect(parsed.map((p) => ({ [p.nodeType]: p.node })), f, opts);
}

async function collectStatement(sql: string, f: Found, opts: { written: boolean; inserts: boolean }) {
  if (!sql) return;
  const parsed = await parseStatements(sql);
  collect(parsed.map((p) => ({ [p.nodeType]: p.node })), f, opts);
}

/** The direct INSERT target's columns the statement supplies (its defaults for those never run). */
function suppliedColumns(s: ParsedStatement): Set<string> | null {
  if (s.nodeType !== 'InsertStmt' || [...walk(s.node)].some(([t]) => t === 'SetToDefault')) return null;
  const cols = (s.node.cols as Array<{ ResTarget?: { name?: string } }> | undefined) ?? [];
  return cols.length > 0 ? new Set(cols.map((c) => c.ResTarget?.name ?? '')) : null;
}

/** Why the statements reach code a preview must not run, or null. `writes: false` (select mode): nothing is written, no trigger fires. */
export async function reachRisk(client: Queryable, statements: readonly ParsedStatement[], opts: { writes: boolean }): Promise<string | null> {
  const f = emptyFound();
  for (const s of statements) collect({ [s.nodeType]: s.node }, f, { written: false, inserts: false });
  // The direct INSERT target with an explicit column list: only the defaults of the columns it leaves out run.
  const supplied = new Map<string, Set<string>>();
  for (const s of statements) {
    const cols = suppliedColumns(s);
    const rv = rangeVarName(s.node.relation);
    if (!rv) continue;
    const key = JSON.stringify([rv.schema, rv.name]);
    const had = supplied.get(key);
    // Inserted into twice: only the columns both statements supply skip their defaults.
    if (cols) supplied.set(key, had ? new Set([...cols].filter((c) => had.has(c))) : cols);
    else if (s.nodeType === 'InsertStmt' || s.nodeType === 'MergeStmt') supplied.set(key, new Set());
  }
  const seen = new Map<number, { written: boolean; inserts: boolean }>();
  const queue: Array<{ oid: number; written: boolean; inserts: boolean; supplied?: Set<string> }> = [];
  const resolve = async () => {
    const names = [...f.relations.entries()];
    f.relations.clear();
    if (names.length === 0) return;
    // An unqualified name is every relation of that name in any schema: the input may change
    // search_path (SET, set_config) before the statement that names it runs.
    const parts = names.map(([n]) => JSON.parse(n) as [string | null, string]);
    const r = await client.query(
      `SELECT x.i, c.oid::int8 AS oid FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(schema, rel, i)
         JOIN pg_class c ON c.relname = x.rel JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE x.schema IS NULL OR n.nspname = x.schema`,
      [parts.map((p) => p[0]), parts.map((p) => p[1])],
    );
    for (const row of r.rows) {
      const [key, how] = names[Number(row.i) - 1] ?? [];
      if (!key || !how) continue;
      const cols = supplied.get(key);
      queue.push({ oid: Number(row.oid), ...how, ...(cols ? { supplied: cols } : {}) });
    }
  };
  await resolve();
  let guard = 0;
  while (queue.length > 0 && guard++ < 500) {
    const item = queue.shift()!;
    const writes = opts.writes && item.written;
    const before = seen.get(item.oid);
    // Revisit only when the relation is now reached in a stronger way (read -> written -> inserted into).
    if (before && (before.written || !writes) && (before.inserts || !item.inserts)) continue;
    seen.set(item.oid, { written: writes || (before?.written ?? false), inserts: item.inserts || (before?.inserts ?? false) });
    const rel = await client.query(
      `SELECT c.relkind, quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS name, pg_get_viewdef(c.oid) AS viewdef
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
      [item.oid],
    );
    const row = rel.rows[0];
    if (!row) continue;
    const name = asText(row.name);
    const sub = { written: writes, inserts: writes && item.inserts };
    if (asText(row.relkind) === 'v') await collectStatement(asText(row.viewdef), f, sub);
    // Policies whether or not RLS is on: the input may enable it before the statement runs.
    {
      const pol = await client.query(`SELECT pg_get_expr(polqual, polrelid) AS q, pg_get_expr(polwithcheck, polrelid) AS w FROM pg_policy WHERE polrelid = $1`, [item.oid]);
      for (const p of pol.rows) for (const e of [p.q, p.w]) await collectExpression(asText(e), f, { written: false, inserts: false });
    }
    if (writes) {
      // Disabled triggers too: the input may enable one before the statement runs.
      const trig = await client.query(
        `SELECT t.tgname AS name, p.proname AS fn, n.nspname AS ns FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE t.tgrelid = $1 AND NOT t.tgisinternal ORDER BY t.tgname`,
        [item.oid],
      );
      for (const t of trig.rows) {
        if (!['pg_catalog', 'information_schema'].includes(asText(t.ns))) {
          return `trigger ${asText(t.name)} on ${name} runs ${asText(t.ns)}.${asText(t.fn)}(), code the gateway does not check and whose effects a rollback may not undo`;
        }
        f.functions.add(asText(t.fn));
      }
      const rules = await client.query(`SELECT pg_get_ruledef(oid) AS def FROM pg_rewrite WHERE ev_class = $1 AND rulename <> '_RETURN'`, [item.oid]);
      for (const r of rules.rows) await collectStatement(asText(r.def), f, { written: true, inserts: true });
      // Generated columns and CHECK constraints run on every write; defaults when rows are inserted.
      const exprs = await client.query(
        `SELECT a.attname AS col, a.attidentity <> '' AS identity, a.attgenerated <> '' AS generated, pg_get_expr(d.adbin, d.adrelid) AS expr
           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND (d.adbin IS NOT NULL OR a.attidentity <> '')
         UNION ALL SELECT NULL, false, true, pg_get_expr(conbin, conrelid) FROM pg_constraint WHERE conrelid = $1 AND contype = 'c'`,
        [item.oid],
      );
      for (const e of exprs.rows) {
        const runs = e.generated === true || (item.inserts && !(item.supplied?.has(asText(e.col)) ?? false));
        if (!runs) continue;
        if (e.identity === true) return `inserting into ${name} draws from the identity sequence of ${asText(e.col)}, which a rollback does not undo`;
        await collectExpression(asText(e.expr), f, { written: false, inserts: false });
      }
      // Code a write runs besides the table's own: the defaults and CHECKs of its columns' domains (domains
      // over domains too; counted whether or not the input supplies the column). Index expressions and
      // predicates count for every relation reached, written or read (see indexedCode).
      const hidden = await client.query(
        `WITH RECURSIVE d(oid) AS (
           SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
           UNION SELECT t.typbasetype FROM pg_type t JOIN d ON t.oid = d.oid WHERE t.typtype = 'd')
         SELECT pg_get_expr(t.typdefaultbin, 0) AS expr FROM pg_type t JOIN d ON t.oid = d.oid WHERE t.typtype = 'd' AND t.typdefaultbin IS NOT NULL
         UNION ALL SELECT pg_get_expr(c.conbin, 0) FROM pg_constraint c JOIN d ON c.contypid = d.oid WHERE c.contype = 'c'`,
        [item.oid],
      );
      for (const e of hidden.rows) await collectExpression(asText(e.expr), f, { written: false, inserts: false });
      // Rows other tables' foreign keys act on (CASCADE, SET NULL, SET DEFAULT), and partitions/children.
      const more = await client.query(
        `SELECT conrelid::int8 AS oid, (confdeltype = 'd' OR confupdtype = 'd') AS defaults FROM pg_constraint
          WHERE contype = 'f' AND confrelid = $1 AND (confdeltype IN ('c', 'n', 'd') OR confupdtype IN ('c', 'n', 'd'))
         UNION ALL SELECT inhrelid::int8, $2::boolean FROM pg_inherits WHERE inhparent = $1`,
        [item.oid, item.inserts],
      );
      for (const m of more.rows) queue.push({ oid: Number(m.oid), written: true, inserts: m.defaults === true });
    }
    await resolve();
  }
  if (queue.length > 0) return 'the statements reach too many relations to check';
  // DDL fires event triggers, enabled or not (the input may enable one first): code no statement shows.
  const ddl = statements.find((s) => !PLAIN.has(s.nodeType));
  if (ddl) {
    const ev = await client.query(`SELECT e.evtname AS name, n.nspname AS ns, p.proname AS fn FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid JOIN pg_namespace n ON n.oid = p.pronamespace ORDER BY 1 LIMIT 1`);
    const hit = ev.rows[0];
    if (hit) return `${statements.length > 1 ? `statement ${ddl.index + 1}: ` : ''}it would fire event trigger ${asText(hit.name)}, which runs ${asText(hit.ns)}.${asText(hit.fn)}(), code the gateway does not check`;
  }
  // Every relation reached, written or read, and the other side of each foreign key on one
  // of them (a write checks, or acts on, that table through its indexes).
  const reached = [...seen.keys()];
  const rels = reached.length === 0 ? [] : (
    await client.query(
      `SELECT DISTINCT x::int8 AS oid FROM (
         SELECT unnest($1::oid[]) UNION ALL
         SELECT unnest(ARRAY[k.conrelid, k.confrelid]) FROM pg_constraint k WHERE k.contype = 'f' AND (k.conrelid = ANY($1::oid[]) OR k.confrelid = ANY($1::oid[]))
       ) r(x)`,
      [reached],
    )
  ).rows.map((r) => Number(r.oid));
  if (rels.length > 0) {
    // Index expressions and predicates: every write maintains them, and the planner evaluates
    // them for reads too (a function marked IMMUTABLE by its author is still code the gateway does not read).
    const ix = await client.query(
      `SELECT pg_get_expr(i.indexprs, i.indrelid) AS expr FROM pg_index i WHERE i.indrelid = ANY($1::oid[]) AND i.indexprs IS NOT NULL
       UNION ALL SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i WHERE i.indrelid = ANY($1::oid[]) AND i.indpred IS NOT NULL`,
      [rels],
    );
    for (const e of ix.rows) await collectExpression(asText(e.expr), f, { written: false, inserts: false });
  }
  f.functions.delete('');
  f.castTypes.delete('');
  for (const fn of f.functions) {
    const why = riskyFunction(fn);
    if (why) return why;
  }
  if (f.functions.size > 0) {
    // Built-in functions are judged by PostgreSQL's own volatility: any overload marked volatile
    // counts (which one a call resolves to is PostgreSQL's choice), unless it is known to leave nothing behind.
    const v = await client.query(
      `SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname = ANY($1) AND n.nspname = 'pg_catalog' AND p.provolatile = 'v' ORDER BY 1`,
      [[...f.functions]],
    );
    const volatile = v.rows.map((x) => asText(x.name)).find((name) => !VOLATILE_BUT_UNDONE.has(name));
    if (volatile) {
      return `function ${volatile}() is volatile and not known to leave nothing behind after a rollback (it may run SQL given as text, read the server's files or change the session); it is not previewed`;
    }
    const r = await client.query(
      `SELECT DISTINCT n.nspname AS ns, p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.proname = ANY($1) AND n.nspname NOT IN ${SYSTEM} ORDER BY 1, 2 LIMIT 1`,
      [[...f.functions]],
    );
    const hit = r.rows[0];
    if (hit) return `function ${asText(hit.ns)}.${asText(hit.name)}() is user code the gateway does not check; its effects (a sequence, a session lock, another server) may outlive the rollback`;
  }
  if (f.operators.size > 0) {
    const r = await client.query(
      `SELECT o.oprname AS name, n.nspname AS ns, p.proname AS fn FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE o.oprname = ANY($1) AND n.nspname NOT IN ${SYSTEM} LIMIT 1`,
      [[...f.operators]],
    );
    const hit = r.rows[0];
    if (hit) return `operator ${asText(hit.name)} may run ${asText(hit.ns)}.${asText(hit.fn)}(), user code the gateway does not check`;
  }
  return indexedCode(client, rels, f);
}

/**
 * User code PostgreSQL runs for the values themselves, never named by a statement: the
 * support functions of the operator classes of every index of the relations reached
 * (each write maintains them, each index scan compares with them), the operators of their
 * keys and exclusion constraints, the comparisons of range types among their columns (a
 * range's input compares its bounds) or cast to, and casts: an explicit one may be any;
 * implicit and assignment ones count when their source and target types can both occur
 * (a column's type, as a domain's base, an array's element or a composite's field; what
 * a called function takes or returns), so that a database with casts elsewhere (PostGIS's)
 * still gets previews of statements its casts cannot touch.
 */
async function indexedCode(client: Queryable, rels: readonly number[], f: Found): Promise<string | null> {
  if (rels.length > 0) {
    const r = await client.query(
      `SELECT quote_ident(cn.nspname) || '.' || quote_ident(c.relname) AS rel, n.nspname AS ns, p.proname AS fn FROM (
           SELECT i.indrelid AS rel, ap.amproc::oid AS fn FROM pg_index i CROSS JOIN LATERAL unnest(i.indclass::oid[]) AS oc(oid)
             JOIN pg_opclass o ON o.oid = oc.oid JOIN pg_amproc ap ON ap.amprocfamily = o.opcfamily WHERE i.indrelid = ANY($1::oid[])
           UNION ALL
           SELECT k.conrelid, op.oprcode::oid FROM pg_constraint k
             CROSS JOIN LATERAL unnest(coalesce(k.conpfeqop, '{}') || coalesce(k.conppeqop, '{}') || coalesce(k.conffeqop, '{}') || coalesce(k.conexclop, '{}')) AS x(oid)
             JOIN pg_operator op ON op.oid = x.oid WHERE k.conrelid = ANY($1::oid[]) OR k.confrelid = ANY($1::oid[])
         ) used JOIN pg_class c ON c.oid = used.rel JOIN pg_namespace cn ON cn.oid = c.relnamespace JOIN pg_proc p ON p.oid = used.fn JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ${SYSTEM} ORDER BY 1 LIMIT 1`,
      [rels],
    );
    const hit = r.rows[0];
    if (hit) return `an index or constraint on ${asText(hit.rel)} runs ${asText(hit.ns)}.${asText(hit.fn)}(), user code the gateway does not check`;
  }
  // The types values can have: columns of the relations reached (through domains, arrays and
  // composites) and the types cast to; and what the functions named take and return.
  const types = await client.query(
    `WITH RECURSIVE t(oid) AS (
       SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
       UNION SELECT y.oid FROM pg_type y WHERE y.typname = ANY($2::text[])
       UNION SELECT n.x FROM t JOIN pg_type y ON y.oid = t.oid CROSS JOIN LATERAL (
         SELECT y.typbasetype UNION ALL SELECT y.typelem UNION ALL
         SELECT a.atttypid FROM pg_attribute a WHERE a.attrelid = y.typrelid AND a.attnum > 0 AND NOT a.attisdropped) n(x)
       WHERE n.x <> 0)
     SELECT coalesce(array_agg(oid), '{}')::int8[] AS t,
            (SELECT coalesce(array_agg(DISTINCT a), '{}')::int8[] FROM pg_proc p CROSS JOIN LATERAL unnest(p.proargtypes::oid[]) a WHERE p.proname = ANY($3::text[])) AS takes,
            (SELECT coalesce(array_agg(DISTINCT p.prorettype), '{}')::int8[] FROM pg_proc p WHERE p.proname = ANY($3::text[])) AS gives
       FROM t`,
    [rels, [...f.castTypes], [...f.functions]],
  );
  const row = types.rows[0] as { t: unknown[]; takes: unknown[]; gives: unknown[] } | undefined;
  const t = (row?.t ?? []).map(Number);
  const from = [...t, ...(row?.gives ?? []).map(Number)];
  const to = [...t, ...(row?.takes ?? []).map(Number)];
  const range = await client.query(
    `SELECT format_type(r.rngtypid, NULL) AS ty, n.nspname AS ns, p.proname AS fn FROM pg_range r
       JOIN pg_opclass o ON o.oid = r.rngsubopc
       CROSS JOIN LATERAL (SELECT ap.amproc::oid FROM pg_amproc ap WHERE ap.amprocfamily = o.opcfamily
                           UNION ALL SELECT r.rngsubdiff::oid UNION ALL SELECT r.rngcanonical::oid) x(f)
       JOIN pg_proc p ON p.oid = x.f JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE (r.rngtypid = ANY($1::oid[]) OR r.rngmultitypid = ANY($1::oid[])) AND n.nspname NOT IN ${SYSTEM} ORDER BY 1 LIMIT 1`,
    [t],
  );
  const rh = range.rows[0];
  if (rh) return `range type ${asText(rh.ty)} compares its bounds with ${asText(rh.ns)}.${asText(rh.fn)}(), user code the gateway does not check`;
  const cast = await client.query(
    `SELECT n.nspname AS ns, p.proname AS fn FROM pg_cast c JOIN pg_proc p ON p.oid = c.castfunc JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname NOT IN ${SYSTEM} AND ($1 OR (c.castcontext IN ('a', 'i') AND c.castsource = ANY($2::oid[]) AND c.casttarget = ANY($3::oid[]))) LIMIT 1`,
    [f.casts, from, to],
  );
  const ch = cast.rows[0];
  if (ch) return `a cast may run ${asText(ch.ns)}.${asText(ch.fn)}(), user code the gateway does not check`;
  return null;
}
