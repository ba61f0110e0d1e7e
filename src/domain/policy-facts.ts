import type { ActionKind } from './action.js';
import { kindVariable } from './action.js';
import { readHttpBody } from './http-body-read.js';
import type { EvaluationInput } from './policy-types.js';
import { setOwn } from './own-key.js';
import { commandFactsWithoutTarget } from './command-facts.js';
import { DYNAMIC_TYPES } from './sql-facts.js';
import { UNKNOWN_SCHEMA } from './sql-search-path.js';

const EMPTY: Record<string, unknown> = Object.freeze({});

/**
 * Facts derived once per evaluation from the action's input, under a variable named
 * after the kind (`http.method`, `mcp.tool`, `tool.command`). Adding a kind to
 * ACTION_KINDS fails to compile until its facts are written here.
 */
export const KIND_FACTS: Record<ActionKind, (input: EvaluationInput) => Record<string, unknown>> = {
  http: (e) => {
    const i = e.action.input;
    const path = str(i.path);
    const facts = {
      // Upper-cased so that a rule on "DELETE" also sees "delete": servers commonly treat them alike.
      method: str(i.method)?.toUpperCase(),
      host: e.target.host,
      // Without a trailing slash: most servers route /releases/ like /releases, so a rule
      // written for one must also hold for the other.
      path: path !== undefined && path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path,
      segments: path === undefined ? [] : segmentsOf(path),
      query: queryFacts(i.query),
    };
    return withBody(facts, i, e.target.contentType);
  },
  mcp: (e) => {
    const i = e.action.input;
    return {
      server: e.action.target,
      tool: str(i.tool),
      arguments: mapping(i.arguments) ?? EMPTY,
      // From the gateway, never from the agent: an agent could call a destructive tool "read-only".
      annotations: mapping(e.hints?.annotations) ?? EMPTY,
    };
  },
  tool: (e) => {
    const i = e.action.input;
    const input = mapping(i.input) ?? EMPTY;
    return { name: str(i.tool), input, command: str(input.command), paths: pathsIn(input), cwd: str(i.cwd) };
  },
  // From the gateway's parse of the statement (hints), never from the agent. Without
  // them, every risk fact holds: a rule can only become stricter.
  sql: (e) => (e.hints?.sql as Record<string, unknown> | undefined) ?? UNKNOWN_SQL,
  // From the gateway's parse with the target's preset; without it (policy test), the preset named like the program.
  command: (e) => (e.hints?.command as unknown as Record<string, unknown> | undefined) ?? (commandFactsWithoutTarget(e.action.input) as unknown as Record<string, unknown>),
};

const UNKNOWN_SQL: Record<string, unknown> = Object.freeze({
  statements: [],
  types: [...DYNAMIC_TYPES],
  tables: [UNKNOWN_SCHEMA],
  writes: [UNKNOWN_SCHEMA],
  reads: [],
  readOnly: false,
  ddl: true,
  privilege: true,
  export: true,
  unbounded: true,
  columns: [],
  dynamic: true,
});

/** The CEL activation: the same object shape for every kind (absent kinds are undefined, which CEL sees as unset). */
export interface CelContext {
  action: EvaluationInput['action'];
  requester: EvaluationInput['requester'];
  target: EvaluationInput['target'];
  http: Record<string, unknown> | undefined;
  mcp: Record<string, unknown> | undefined;
  tool: Record<string, unknown> | undefined;
  sql: Record<string, unknown> | undefined;
  cmd: Record<string, unknown> | undefined;
  [name: string]: unknown;
}

export function celContext(e: EvaluationInput): CelContext {
  const ctx: CelContext = { action: e.action, requester: e.requester, target: e.target, http: undefined, mcp: undefined, tool: undefined, sql: undefined, cmd: undefined };
  const kind = e.action.kind;
  if (Object.hasOwn(KIND_FACTS, kind)) ctx[kindVariable(kind as ActionKind)] = KIND_FACTS[kind as ActionKind](e);
  return ctx;
}

/**
 * One value → a string, several → a list, whatever the agent wrote: `{force: ["true"]}`
 * and `{force: "true"}` send the same `force=true`, so a rule must see the same fact.
 */
function queryFacts(q: unknown): Record<string, unknown> {
  const m = mapping(q);
  if (!m) return EMPTY;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) setOwn(out, k, Array.isArray(v) && v.length === 1 ? v[0] : v);
  return out;
}

/**
 * `body` as the target will read it (parsed JSON, form fields, or the string) with
 * `bodyType` and `contentType`. The submit path refuses a body that cannot be read one
 * way only; should one reach policy anyway (a `policy test` case), reading `http.body`
 * is an error, which makes a deny or review rule fire and keeps an allow rule from firing.
 */
function withBody(facts: Record<string, unknown>, input: Record<string, unknown>, injected: string | undefined): Record<string, unknown> {
  const r = readHttpBody(input, injected);
  if (r.ok) return Object.assign(facts, { body: r.read.value, bodyType: r.read.kind, contentType: r.read.contentType });
  const message = `http.body cannot be read as the target would read it: ${r.problem.message}`;
  Object.assign(facts, { bodyType: 'unreadable', contentType: '' });
  return Object.defineProperty(facts, 'body', {
    enumerable: true,
    get() {
      throw new Error(message);
    },
  });
}

const PATH_KEYS = new Set(['file_path', 'path', 'notebook_path']);

/**
 * Every string under a path-like key, at any depth: a rule that guards paths must not
 * be sidestepped by nesting one (MultiEdit-style inputs). Iterative, so deep input
 * cannot overflow the stack.
 */
function pathsIn(input: Record<string, unknown>): string[] {
  const out: string[] = [];
  // Breadth first, so that paths come out top level first, in document order.
  const queue: unknown[] = [input];
  for (let q = 0; q < queue.length; q++) {
    const v = queue[q];
    if (Array.isArray(v)) {
      for (const x of v) queue.push(x);
    } else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (PATH_KEYS.has(k) && typeof x === 'string') out.push(x);
        else queue.push(x);
      }
    }
  }
  return out;
}

/** Non-empty `/`-separated segments; a loop rather than split+filter, this runs on every evaluation. */
function segmentsOf(path: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) out.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function mapping(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
