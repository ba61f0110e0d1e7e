import { ACTION_KINDS, ACTION_MODES, HTTP_METHODS } from '../domain/action.js';
import { STATUSES } from '../domain/status.js';

/**
 * JSON Schemas of the HTTP API v1. Fastify validates requests with them (Ajv,
 * compiled once), serialises responses with them (only declared fields leave the
 * server), and @fastify/swagger publishes them at /openapi.json.
 */

const anyJson = {};
/** Free text shown to reviewers: no control characters but tab and newline, no bidi overrides. */
const TEXT = '^[^\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]*$';
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'Stable, UPPER_SNAKE error code (see docs/api.md)' },
        message: { type: 'string' },
        details: { type: 'object', additionalProperties: true },
      },
    },
  },
} as const;

export const httpInputSchema = {
  type: 'object',
  required: ['method', 'path'],
  additionalProperties: false,
  properties: {
    method: { type: 'string', enum: HTTP_METHODS },
    path: { type: 'string', minLength: 1, maxLength: 8192, description: 'Path under the target\'s base URL, starting with /' },
    query: { type: 'object', additionalProperties: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 100 }] } },
    headers: { ...stringMap, maxProperties: 64 },
    body: anyJson,
  },
} as const;

export const actionRequestSchema = {
  type: 'object',
  required: ['kind', 'target', 'input'],
  additionalProperties: false,
  properties: {
    kind: { type: 'string', enum: ACTION_KINDS },
    target: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$', description: 'A configured target' },
    input: { type: 'object', description: 'Kind-specific: for http, {method, path, query?, headers?, body?}; for sql, {statement, params?}; for command, {argv, stdin?, files?}' },
    justification: { type: 'string', maxLength: 4000, pattern: TEXT, description: 'Why the agent wants this; shown to reviewers' },
    context: { type: 'object', description: 'Free-form context shown to reviewers (ticket, session...)' },
    onBehalfOf: { type: 'string', pattern: '^[\\x21-\\x7e]{3,320}$', description: 'The human the agent acts for (printable ASCII, like human ids); never an eligible reviewer' },
    mode: { type: 'string', enum: ACTION_MODES, default: 'execute', description: 'execute: the gateway runs it; decide: the agent runs it after approval' },
  },
  allOf: [{ if: { properties: { kind: { const: 'http' } } }, then: { properties: { input: httpInputSchema } } }],
} as const;

/** A standing grant asked for with an approval (docs/policy.md, "Standing grants"). */
export const grantAskSchema = {
  type: 'object',
  required: ['ttl', 'uses'],
  additionalProperties: false,
  description: 'Also approve future actions like this one, within the policy\'s review.grants bounds',
  properties: {
    ttl: { type: 'string', pattern: '^[0-9]{1,9}(ms|s|m|h|d)$', description: 'How long the grant lasts, e.g. 1h' },
    uses: { type: 'integer', minimum: 1, maximum: 1000000, description: 'How many future actions it may cover (the approved one is not one of them)' },
    path: {
      type: 'string',
      minLength: 1,
      maxLength: 2048,
      description: 'http only: a path pattern such as /v1/customers/*/export (each * is one segment) that must match this action\'s path and stay within the policy\'s grants.paths',
    },
  },
} as const;

export const approveBodySchema = {
  type: 'object',
  required: ['fingerprint'],
  additionalProperties: false,
  properties: {
    fingerprint: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$', description: 'The fingerprint of the action as shown to the approver' },
    comment: { type: 'string', maxLength: 4000, pattern: TEXT },
    grant: grantAskSchema,
  },
} as const;

export const denyBodySchema = {
  type: 'object',
  required: ['comment'],
  additionalProperties: false,
  properties: { comment: { type: 'string', minLength: 1, maxLength: 4000, pattern: TEXT, description: 'Why the action is denied' } },
} as const;

export const idParamsSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', pattern: '^act_[A-Za-z0-9]{10,64}$' } },
} as const;

export const waitQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { wait: { type: 'integer', minimum: 0, maximum: 300, description: 'Long poll: seconds to wait for the action to settle' } },
} as const;

export const listQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'array', items: { type: 'string', enum: STATUSES }, description: 'Comma-separated or repeated' },
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', maxLength: 200, description: 'The nextCursor of the previous page' },
  },
} as const;

const requirementSchema = {
  type: 'object',
  properties: {
    ruleId: { type: 'string' },
    approvers: { type: 'array', items: { type: 'string' } },
    quorum: { type: 'integer' },
    timeoutMs: { type: 'integer' },
    escalate: { type: 'object', properties: { afterMs: { type: 'integer' }, to: { type: 'array', items: { type: 'string' } }, at: { type: 'string' }, done: { type: 'boolean' } } },
    approvedBy: { type: 'array', items: { type: 'string' }, description: 'Distinct humans whose approval counts towards this requirement' },
    drift: { type: 'object', additionalProperties: true, description: 'sql: how far execution may stray from the previewed row counts' },
  },
} as const;

const reviewSchema = {
  type: 'object',
  properties: {
    reviewer: { type: 'string' },
    verdict: { type: 'string', enum: ['approve', 'deny'] },
    fingerprint: { type: 'string' },
    comment: { type: 'string' },
    via: { type: 'string' },
    at: { type: 'string' },
    countsFor: { type: 'array', items: { type: 'string' } },
    grant: { type: 'object', properties: { ttlMs: { type: 'integer' }, uses: { type: 'integer' }, path: { type: 'string' } } },
  },
} as const;

export const actionSchema = {
  $id: 'Action',
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: STATUSES },
    kind: { type: 'string' },
    target: { type: 'string' },
    input: { type: 'object', additionalProperties: true, description: 'As submitted; credential headers are redacted' },
    mode: { type: 'string', enum: ACTION_MODES },
    justification: { type: 'string' },
    context: { type: 'object', additionalProperties: true },
    onBehalfOf: { type: 'string' },
    fingerprint: { type: 'string' },
    requester: { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string' }, owner: { type: 'string' } } },
    decision: {
      type: 'object',
      properties: {
        outcome: { type: 'string', enum: ['allow', 'review', 'deny'] },
        rules: { type: 'array', items: { type: 'string' } },
        policyVersion: { type: 'string' },
        reason: { type: 'string' },
        shadow: { type: 'object', additionalProperties: true, description: 'Shadow rules that fired and what enforcing them would decide: {rules, outcome, disagrees}' },
        grant: { type: 'object', additionalProperties: true, description: 'The standing grant that allowed it: {id, use, policyOutcome}' },
      },
    },
    grant: { type: 'object', additionalProperties: true, description: 'The standing grant its approval created: {id, expiresAt, maxUses, text}' },
    grantable: { type: 'object', additionalProperties: true, description: 'What a grant given with an approval may cover: {maxTtl, maxUses, scope, text}' },
    review: {
      type: 'object',
      properties: {
        requirements: { type: 'array', items: requirementSchema },
        approvals: { type: 'array', items: reviewSchema, description: 'Approvals so far' },
        reviews: { type: 'array', items: reviewSchema, description: 'Every review, approvals and denials' },
        expiresAt: { type: 'string' },
        you: {
          type: 'object',
          description: 'The caller\'s standing: whether they may decide this action now, and if not the error code a decision would get (SELF_APPROVAL, NOT_ELIGIBLE, ALREADY_REVIEWED, NOT_PENDING, AGENT_CANNOT_REVIEW)',
          properties: { canDecide: { type: 'boolean' }, reason: { type: 'string' } },
        },
      },
    },
    result: {
      type: 'object',
      properties: {
        ok: { type: 'boolean' },
        startedAt: { type: 'string' },
        finishedAt: { type: 'string' },
        reason: { type: 'string' },
        status: { type: 'integer' },
        exitCode: { type: ['integer', 'null'], description: 'command: the program\'s exit code (null when a signal ended it)' },
        headers: stringMap,
        body: anyJson,
        bodyEncoding: { type: 'string', enum: ['json', 'text', 'base64'], description: 'How `body` holds the response body' },
        bodyTruncated: { type: 'boolean' },
        error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
      },
    },
    facts: { type: 'object', additionalProperties: true, description: 'What policy saw besides the input: for sql, `{sql: {...}}`, the facts PostgreSQL\'s parser found (docs/databases.md)' },
    preview: { type: 'object', additionalProperties: true, description: 'sql: the dry run shown to reviewers (rows per statement, sample rows, schema and privilege changes); command (`mode: command`): the preview command\'s exit code, output and `outputHash`' },
    drift: { type: 'object', additionalProperties: true, description: 'sql: the drift tolerance execution is held to (`{kind: exact}`, `{kind: percent, value}`, `{kind: absolute, value}`)' },
    auditSeqs: { type: 'array', items: { type: 'integer' }, description: 'Sequence numbers of the action\'s audit entries (GET /v1/actions/{id}/receipt proves them)' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
    links: { type: 'object', properties: { self: { type: 'string' } } },
  },
} as const;

export const actionListSchema = {
  type: 'object',
  properties: {
    actions: { type: 'array', items: actionSchema },
    nextCursor: { type: 'string' },
  },
} as const;
