import { ACTION_KINDS, kindVariable } from './action.js';
import type { ActionKind } from './action.js';

/**
 * The facts of each kind as CEL types, so that the checker refuses `http.methd` when the
 * policy loads instead of letting the rule quietly never match. Used to check conditions
 * only: evaluation still reads plain objects (policy-facts.ts builds them), so a typed
 * declaration changes what loads, never what a loaded rule decides.
 *
 * A field is a CEL type name (`string`, `bool`, `list<string>`, `dyn` for a value of any
 * type, `map<string, dyn>` for an open object whose keys come from the agent or a
 * server), a nested object (`{ fields }`), or a list of them (`{ list: { fields } }`).
 * A kind added to ACTION_KINDS brings its declaration here; until it does, its facts stay
 * an open map (policy-fact-types.test.ts fails on it).
 */
export type FactField = string | FactObject | { list: FactObject };
export interface FactObject {
  fields: Readonly<Record<string, FactField>>;
}

/** Open by nature: keys the agent (or an MCP server) chooses, checked when evaluated only. */
export const OPEN = 'map<string, dyn>';

const MCP_ANNOTATIONS: FactObject = {
  // The MCP specification's ToolAnnotations, as the server declared them (never the agent).
  fields: { title: 'string', readOnlyHint: 'bool', destructiveHint: 'bool', idempotentHint: 'bool', openWorldHint: 'bool' },
};

const SQL_STATEMENT: FactObject = {
  // `limit` is null when there is none: dyn, so that `s.limit == null` and `s.limit > 100` both check.
  fields: { type: 'string', tables: 'list<string>', writes: 'list<string>', where: 'bool', limit: 'dyn', functions: 'list<string>' },
};

export const KIND_FACT_TYPES: Partial<Record<ActionKind, FactObject>> = {
  http: {
    fields: {
      method: 'string',
      host: 'string',
      path: 'string',
      segments: 'list<string>',
      query: OPEN,
      body: 'dyn',
      bodyType: 'string',
      contentType: 'string',
    },
  },
  mcp: { fields: { server: 'string', tool: 'string', arguments: OPEN, annotations: MCP_ANNOTATIONS } },
  tool: { fields: { name: 'string', input: OPEN, command: 'string', paths: 'list<string>', cwd: 'string' } },
  sql: {
    fields: {
      statements: { list: SQL_STATEMENT },
      types: 'list<string>',
      tables: 'list<string>',
      writes: 'list<string>',
      reads: 'list<string>',
      readOnly: 'bool',
      ddl: 'bool',
      privilege: 'bool',
      export: 'bool',
      unbounded: 'bool',
      columns: 'list<string>',
      dynamic: 'bool',
    },
  },
  // Read as `cmd.*` (kindVariable). `flags` holds the flags the agent wrote: open by nature.
  command: {
    fields: {
      program: 'string',
      preset: 'string',
      argv: 'list<string>',
      args: 'list<string>',
      verb: 'string',
      subcommand: 'string',
      resource: 'string',
      name: 'string',
      namespace: 'string',
      flags: OPEN,
      positionals: 'list<string>',
      stdin: 'bool',
      files: 'list<string>',
    },
  },
};

/** The fields of the object reached by `path` from a kind's facts (`['mcp', 'annotations']`), if declared. */
export function factFieldsAt(path: readonly string[]): string[] | undefined {
  const [first, ...rest] = path;
  // The path may start with the kind (`command`) or the variable policy reads it as (`cmd`).
  const kind = ACTION_KINDS.find((k) => kindVariable(k) === first) ?? first;
  let at: FactField | undefined = KIND_FACT_TYPES[kind as ActionKind];
  for (const key of rest) {
    if (!at || typeof at === 'string' || 'list' in at) return undefined;
    at = at.fields[key];
  }
  return at && typeof at !== 'string' && !('list' in at) ? Object.keys(at.fields) : undefined;
}
