import type { FastifyInstance } from 'fastify';
import type { Authenticator } from '../ports/authenticator.js';
import type { AuditQueryService } from '../services/audit-query-service.js';
import { MAX_ENTRIES } from '../services/audit-query-service.js';
import { authHook, principalOf } from './auth.js';
import { idParamsSchema } from './schemas.js';

/**
 * The verifiable audit log over HTTP: the latest signed checkpoint, entries, RFC 9162
 * proofs (audit readers only), and per-action receipts (whoever may read the action).
 * Hashes are base64, as in checkpoints.
 */
export interface AuditRouteDeps {
  authenticator: Authenticator;
  audit: AuditQueryService;
}

const errors = { 400: { $ref: 'Error#' }, 401: { $ref: 'Error#' }, 403: { $ref: 'Error#' }, 404: { $ref: 'Error#' } };
const hashes = { type: 'array', items: { type: 'string', description: 'base64 SHA-256' } } as const;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

const entriesQuery = {
  type: 'object',
  required: ['start'],
  additionalProperties: false,
  properties: {
    start: { type: 'integer', minimum: 0, description: 'First sequence number' },
    end: { type: 'integer', minimum: 0, description: `Exclusive end; at most start + ${MAX_ENTRIES}; default start + 100` },
  },
} as const;

const entrySchema = {
  type: 'object',
  properties: {
    seq: { type: 'integer' },
    bytes: { type: 'string', description: 'The canonical JSON bytes (RFC 8785), base64: what the leaf hash covers' },
    leafHash: { type: 'string', description: 'SHA-256(0x00 || bytes), base64 (RFC 9162 leaf hash)' },
    entry: { type: 'object', additionalProperties: true, description: 'The same bytes, parsed' },
  },
} as const;

const receiptSchema = {
  type: 'object',
  properties: {
    format: { type: 'string', enum: ['countersign-receipt/v1'] },
    actionId: { type: 'string' },
    checkpoint: { type: ['string', 'null'], description: 'The signed checkpoint (C2SP tlog-checkpoint) the proofs lead to' },
    treeSize: { type: 'integer' },
    entries: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          seq: { type: 'integer' },
          entry: { type: 'string', description: 'The canonical JSON of the entry' },
          leafHash: { type: 'string' },
          proof: hashes,
          tlogProof: { type: 'string', description: 'The same proof as a C2SP tlog-proof (extra = the entry bytes)' },
        },
      },
    },
    pending: { type: 'array', items: { type: 'integer' }, description: 'Entries not yet covered by a signed checkpoint' },
  },
} as const;

export function registerAuditRoutes(app: FastifyInstance, deps: AuditRouteDeps): void {
  app.addHook('onRequest', authHook(deps.authenticator));
  const { audit } = deps;

  app.get(
    '/v1/audit/checkpoint',
    {
      schema: {
        summary: 'The latest signed checkpoint (C2SP tlog-checkpoint in a signed note), as text',
        tags: ['audit'],
        response: { 200: { type: 'string', description: 'text/plain signed note' }, ...errors },
      },
    },
    async (req, reply) => reply.type('text/plain; charset=utf-8').send(await audit.checkpoint(principalOf(req))),
  );

  app.get<{ Querystring: { start: number; end?: number } }>(
    '/v1/audit/entries',
    {
      schema: {
        summary: 'Audit entries [start, end), with their bytes and leaf hashes',
        tags: ['audit'],
        querystring: entriesQuery,
        response: { 200: { type: 'object', properties: { size: { type: 'integer' }, entries: { type: 'array', items: entrySchema } } }, ...errors },
      },
    },
    async (req) => {
      const { start } = req.query;
      const r = await audit.entries(principalOf(req), start, req.query.end ?? start + 100);
      return {
        size: r.size,
        entries: r.entries.map((e) => ({ seq: e.seq, bytes: b64(e.bytes), leafHash: b64(e.leafHash), entry: JSON.parse(Buffer.from(e.bytes).toString('utf8')) as unknown })),
      };
    },
  );

  app.get<{ Querystring: { index: number; size?: number } }>(
    '/v1/audit/proof/inclusion',
    {
      schema: {
        summary: 'RFC 9162 inclusion proof of entry `index` in the tree of `size` entries (default: the latest checkpoint)',
        tags: ['audit'],
        querystring: {
          type: 'object',
          required: ['index'],
          additionalProperties: false,
          properties: { index: { type: 'integer', minimum: 0 }, size: { type: 'integer', minimum: 1 } },
        },
        response: {
          200: {
            type: 'object',
            properties: { index: { type: 'integer' }, size: { type: 'integer' }, leafHash: { type: 'string' }, proof: hashes, checkpoint: { type: 'string', description: 'The checkpoint of that size, if signed' } },
          },
          ...errors,
        },
      },
    },
    async (req) => {
      const r = await audit.inclusion(principalOf(req), req.query.index, req.query.size);
      return { index: r.index, size: r.size, leafHash: b64(r.leafHash), proof: r.proof.map(b64), ...(r.checkpoint ? { checkpoint: r.checkpoint } : {}) };
    },
  );

  app.get<{ Querystring: { from: number; to?: number } }>(
    '/v1/audit/proof/consistency',
    {
      schema: {
        summary: 'RFC 9162 consistency proof from `from` to `to` entries (default: the latest checkpoint)',
        tags: ['audit'],
        querystring: {
          type: 'object',
          required: ['from'],
          additionalProperties: false,
          properties: { from: { type: 'integer', minimum: 1 }, to: { type: 'integer', minimum: 1 } },
        },
        response: { 200: { type: 'object', properties: { from: { type: 'integer' }, to: { type: 'integer' }, proof: hashes } }, ...errors },
      },
    },
    async (req) => {
      const r = await audit.consistency(principalOf(req), req.query.from, req.query.to);
      return { from: r.from, to: r.to, proof: r.proof.map(b64) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/actions/:id/receipt',
    {
      schema: {
        summary: "An action's offline receipt: its entries with inclusion proofs against a signed checkpoint",
        tags: ['audit'],
        params: idParamsSchema,
        response: { 200: receiptSchema, ...errors },
      },
    },
    async (req) => audit.receipt(principalOf(req), req.params.id),
  );
}
