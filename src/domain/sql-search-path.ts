import type { SqlNode } from './sql-tree.js';
import { fieldsOf, listOf, str } from './sql-tree.js';

/**
 * Where unqualified names may resolve: every schema on the search_path in force is a
 * candidate, since PostgreSQL takes the first one holding the name and the facts cannot
 * see which exist. The default path (`"$user", public`, no schema named after the role)
 * is `public` alone. `*` stands for a schema the facts cannot know (a search_path set
 * from a value that is not a constant): `users` is then `*.users` (and `public.users`).
 */
export type SearchPath = readonly string[];

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_PATH: SearchPath = [DEFAULT_SCHEMA];
export const UNKNOWN_SCHEMA = '*';
const UNKNOWN_PATH: SearchPath = [DEFAULT_SCHEMA, UNKNOWN_SCHEMA];

/**
 * The schemas of a search_path value (`billing, "$user", public`), `"$user"` left out.
 * `fold`: the value is one string (set_config's), whose unquoted names PostgreSQL folds to lower case.
 */
export function parsePath(values: readonly string[], fold = false): SearchPath {
  const names = values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .map((v) => (/^".*"$/.test(v) ? v.slice(1, -1) : fold ? v.toLowerCase() : v))
    .filter((v) => v !== '' && v !== '$user');
  return names.length ? [...new Set(names)] : DEFAULT_PATH;
}

/**
 * The path after a `SET` / `RESET` statement: `SET search_path TO billing, public` makes
 * both candidates, `RESET`, `SET ... DEFAULT` and `RESET ALL` go back to the default.
 */
export function pathAfterSet(nodeType: string, f: SqlNode, current: SearchPath): SearchPath {
  if (nodeType === 'DiscardStmt' && str(f.target) === 'DISCARD_ALL') return DEFAULT_PATH;
  if (nodeType !== 'VariableSetStmt') return current;
  const kind = str(f.kind);
  if (kind === 'VAR_RESET_ALL') return DEFAULT_PATH;
  const name = str(f.name)?.toLowerCase() ?? '';
  if (ROLE_SETTINGS.has(name)) return kind === 'VAR_SET_VALUE' ? asUser(constant(listOf(f.args)[0]), current) : current;
  if (name !== 'search_path') return current;
  if (kind === 'VAR_SET_CURRENT') return current;
  if (kind !== 'VAR_SET_VALUE') return DEFAULT_PATH;
  const values = listOf(f.args).map(constant);
  return values.some((v) => v === undefined) ? UNKNOWN_PATH : parsePath(values as string[]);
}

/**
 * The path after `set_config(name, value, local)`: a constant `search_path` moves it; a
 * name or value that is not a constant leaves it unknown. The call may not run (a WHERE,
 * a CASE), so the path before stays a candidate too.
 */
export function pathAfterSetConfig(args: readonly unknown[], current: SearchPath): SearchPath | undefined {
  const name = constant(args[0])?.toLowerCase();
  if (name !== undefined && ROLE_SETTINGS.has(name)) return asUser(constant(args[1]), current);
  if (name !== undefined && name !== 'search_path') return undefined;
  const value = constant(args[1]);
  const next = name === undefined || value === undefined ? UNKNOWN_PATH : parsePath([value], true);
  return either(next, current);
}

/** Both paths' candidates, the first one's first: for a change that may or may not happen. */
export function either(a: SearchPath, b: SearchPath): SearchPath {
  return [...new Set([...a, ...b])];
}

const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

/**
 * Acting as another role (`SET ROLE billing`) makes `"$user"` on the path that role: a
 * schema named after it (often there is one) comes first. Its name is added as a
 * candidate, the path before kept (the default path's `"$user"` is not tracked).
 */
function asUser(role: string | undefined, current: SearchPath): SearchPath {
  if (role?.toLowerCase() === 'none') return current;
  return either(role === undefined ? [UNKNOWN_SCHEMA] : [role], current);
}

function constant(v: unknown): string | undefined {
  return str((fieldsOf(v, 'A_Const')?.sval as SqlNode | undefined)?.sval);
}
