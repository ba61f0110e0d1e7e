import type { ActionKind } from './action.js';

/**
 * The facts a grant's scope may pin, by kind: a future action is covered only if each
 * pinned fact equals the approved action's (lists compared as sets). Rule, agent,
 * target and kind are always pinned; `agent` and `target` may be written for clarity.
 */
export const SCOPE_FACTS: Record<ActionKind, readonly string[]> = {
  http: ['method', 'path', 'host'],
  mcp: ['tool', 'server'],
  tool: ['name', 'command'],
  sql: ['types', 'tables', 'reads', 'writes', 'readOnly'],
  command: ['program', 'verb', 'subcommand', 'resource', 'namespace'],
};

export const ALWAYS_SCOPED = ['agent', 'target'] as const;

/** A problem with one scope entry, or undefined when it names a known fact. */
export function scopeEntryProblem(entry: string): string | undefined {
  if ((ALWAYS_SCOPED as readonly string[]).includes(entry)) return undefined;
  const [kind, fact, more] = entry.split('.');
  const known = Object.entries(SCOPE_FACTS).flatMap(([k, fs]) => fs.map((f) => `${k}.${f}`));
  if (more !== undefined || !kind || !fact || !Object.hasOwn(SCOPE_FACTS, kind) || !SCOPE_FACTS[kind as ActionKind].includes(fact)) {
    return `unknown grant scope "${entry}"; expected agent, target or one of: ${known.join(', ')}`;
  }
  return undefined;
}
