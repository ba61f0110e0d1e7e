/** A `sql` action's input as the adapters read it: `{ statement, params? }`. */
export interface SqlInputShape {
  statement: string;
  params: Array<string | number | boolean | null>;
}

/**
 * The adapters' own check of the input (the submit path validates it fully before any
 * policy runs; this is defence in depth for what reaches a database): a non-empty string
 * and scalar params. Returns a message on failure.
 */
export function readSqlInput(input: unknown): SqlInputShape | string {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return 'input must be an object { statement, params? }';
  const { statement, params } = input as { statement?: unknown; params?: unknown };
  if (typeof statement !== 'string' || statement.trim() === '') return 'input.statement must be a non-empty string';
  if (statement.includes('\u0000')) return 'input.statement must not contain NUL characters';
  if (params !== undefined && !Array.isArray(params)) return 'input.params must be an array';
  const list = (params ?? []) as unknown[];
  for (const [i, p] of list.entries()) {
    if (p !== null && !['string', 'number', 'boolean'].includes(typeof p)) return `input.params[${i}] must be a string, number, boolean or null`;
    if (typeof p === 'string' && p.includes('\u0000')) return `input.params[${i}] must not contain NUL characters`;
    if (typeof p === 'number' && !Number.isFinite(p)) return `input.params[${i}] must be a finite number`;
  }
  return { statement, params: list as SqlInputShape['params'] };
}
