import { canonicalJson, sha256Hex } from './canonical-json.js';

/** Kinds of action. Later kinds (shell...) are added here and the compiler points at every place to wire. */
export const ACTION_KINDS = ['http', 'mcp', 'tool', 'sql', 'command'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/**
 * Kinds of target: the engine or system an action runs on. The action kind says what
 * the action is, the target kind which engine runs it: `sql` runs on `postgres` (another
 * database later adds a target kind, not an action kind).
 */
export const TARGET_KINDS = ['http', 'mcp', 'tool', 'postgres', 'command'] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

/** The target kinds each action kind runs on. Exhaustive, so a new kind must say where it runs. */
export const ACTION_TARGET_KINDS: Record<ActionKind, readonly TargetKind[]> = {
  http: ['http'],
  mcp: ['mcp'],
  tool: ['tool'],
  sql: ['postgres'],
  command: ['command'],
};

/** The CEL variable holding a kind's facts: the kind's name, but `cmd` for commands (shorter to write in every rule). */
export function kindVariable(kind: ActionKind): string {
  return kind === 'command' ? 'cmd' : kind;
}

export function runsOn(kind: ActionKind, target: TargetKind): boolean {
  return ACTION_TARGET_KINDS[kind].includes(target);
}

/** Input of a `sql` action: the statement(s) and the values bound to $1, $2... server side. */
export interface SqlInput {
  statement: string;
  params?: Array<string | number | boolean | null>;
}

export const ACTION_MODES = ['execute', 'decide'] as const;
export type ActionMode = (typeof ACTION_MODES)[number];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface HttpInput {
  method: HttpMethod;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  body?: unknown;
}

export type JsonObject = Record<string, unknown>;

/** What an agent asks for. `input` is kind-specific (HttpInput for `http`). */
export interface ActionRequest {
  kind: ActionKind;
  target: string;
  input: JsonObject;
  justification?: string;
  context?: JsonObject;
  onBehalfOf?: string;
  mode?: ActionMode;
}

/**
 * The fingerprint binds approvals to the exact effect: kind, target, input and
 * requester, as `sha256:<hex>` of their RFC 8785 canonical JSON. Justification and
 * context are deliberately left out: they explain, they do not change what runs.
 */
export function fingerprintOf(a: { kind: string; target: string; input: unknown; requester: string }): string {
  return `sha256:${sha256Hex(canonicalJson({ kind: a.kind, target: a.target, input: a.input, requester: a.requester }))}`;
}

/** The first 12 hex digits: enough for a human to compare what two screens show. */
export function shortFingerprint(fp: string): string {
  return fp.slice(0, 'sha256:'.length + 12);
}
