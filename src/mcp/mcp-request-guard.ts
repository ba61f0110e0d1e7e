import type { AnyObjectSchema, SchemaOutput } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { safeParse } from '@modelcontextprotocol/sdk/server/zod-compat.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

interface Issue {
  path: PropertyKey[];
  message: string;
}

/** A JSON-RPC error as the SDK's Protocol answers it: `code` and `message` as they are. */
export class InvalidParamsError extends Error {
  readonly code = ErrorCode.InvalidParams;
}

const methodSchemas = new Map<string, AnyObjectSchema>();

/**
 * What the SDK's Protocol parses before it calls a handler: the method alone. It parses
 * the request with the schema it is given and its parse error carries no JSON-RPC code,
 * so a request with bad params answered -32603 (Internal error) with the whole parse
 * dump (found by test/e2e/mcp-fuzz.test.ts); the params are parsed once, by `checked`.
 */
export function methodOnly(method: string): AnyObjectSchema {
  let schema = methodSchemas.get(method);
  if (!schema) methodSchemas.set(method, (schema = z.looseObject({ method: z.literal(method) })));
  return schema;
}

/**
 * The request parsed with its method's schema, once; params that do not fit answer -32602
 * (Invalid params) naming the first issue: a client's mistake, not the gateway failing.
 */
export function checked<T extends AnyObjectSchema>(method: string, schema: T, request: unknown): SchemaOutput<T> {
  const parsed = safeParse(schema, request);
  if (parsed.success) return parsed.data;
  const first = (parsed.error as { issues?: Issue[] }).issues?.[0];
  const where = first ? `${first.path.map(String).join('.') || '(the request)'}: ${first.message}` : 'invalid';
  throw new InvalidParamsError(`Invalid params for ${method}: ${where}`);
}
