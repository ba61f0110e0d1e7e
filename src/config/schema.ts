import { z } from 'zod';
import { isDuration } from '../domain/duration.js';
import { MAX_REDACT_WINDOW, MIN_REDACT_WINDOW } from '../domain/redact-forms.js';
import { HUMAN_ID, isApproverRef } from '../domain/identity.js';
import { integrationsSchema, mcpSchema, toolsSchema } from './agents-schema.js';
import { auditConfigSchema } from './audit-schema.js';
import { channelsSchema } from './channels-schema.js';
import { consoleSchema } from './console-schema.js';
import { postgresTargetSchema } from './postgres-schema.js';
import { postgresListenSchema } from './postgres-listen-schema.js';
import { storeSchema } from './store-schema.js';
import { checkRunnerRefs, commandTargetSchema, runnersSchema } from './command-schema.js';
import { isHttpUrl } from './url-protocol.js';

/**
 * The one configuration schema: it validates config files at start-up and generates
 * docs/configuration.md (npm run docs:config). Every key has a description.
 */

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });
const labels = z.record(z.string(), z.string()).describe('Labels that policy can match on (`match.labels`).');
const tokenHash = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, 'expected sha256:<64 lowercase hex digits>')
  .describe('SHA-256 of the token, as `sha256:<hex>`; use instead of `token` so that the config holds no secret.');
const token = z.string().min(16, 'tokens must be at least 16 characters').describe('The bearer token, literal or `${ENV}`. Stored and compared as a hash.');
const humanId = z.string().regex(HUMAN_ID, 'human ids are 3-320 printable ASCII characters, no spaces');
const agentId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'agent ids are 1-128 letters, digits, dot, underscore or dash');

export const agentSchema = z
  .object({
    id: agentId.describe('The agent\'s id: the requester of its actions.'),
    token: token.optional(),
    tokenHash: tokenHash.optional(),
    owner: humanId.describe('The human accountable for the agent; never an eligible reviewer of its actions. Must be a configured human unless OIDC is on.'),
    labels: labels.optional(),
  })
  .strict()
  .refine((a) => (a.token === undefined) !== (a.tokenHash === undefined), { message: 'give exactly one of token or tokenHash' });

export const humanSchema = z
  .object({
    id: humanId.describe('The human\'s id, usually an email address: printable ASCII only, compared case-insensitively.'),
    groups: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/)).default([]).describe('Groups the human belongs to (`group:NAME` in policy).'),
    token: token.optional(),
    tokenHash: tokenHash.optional(),
    slackUserId: z.string().regex(/^[UW][A-Z0-9]+$/).optional().describe('Explicit Slack user mapping (otherwise by email through users.info).'),
    teamsAadObjectId: z.string().uuid().optional().describe('Explicit Microsoft Teams (Entra ID) object id mapping.'),
  })
  .strict()
  .refine((h) => !(h.token !== undefined && h.tokenHash !== undefined), { message: 'give at most one of token or tokenHash' });

export const httpTargetSchema = z
  .object({
    kind: z.literal('http'),
    baseUrl: z
      .string()
      .url()
      .refine(isHttpUrl, 'baseUrl must be http or https')
      .describe('Every request goes under this URL; nothing may leave it.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Headers the gateway injects (credentials go here, as `${ENV}`). Every value but those of public headers (accept, content-type, user-agent...) is a credential: never shown to agents or logged, redacted from results, at least 8 characters.'),
    timeout: duration.default('30s').describe('Request timeout.'),
    maxResponseBytes: z.number().int().positive().max(64 * 1024 * 1024).default(1024 * 1024).describe('Response bodies beyond this many bytes are cut off.'),
    followRedirects: z.number().int().min(0).max(10).default(0).describe('Same-origin redirects to follow under baseUrl; other redirects are refused.'),
    labels: labels.optional(),
  })
  .strict();

export const targetSchema = z.discriminatedUnion('kind', [httpTargetSchema, postgresTargetSchema, commandTargetSchema]);

export const oidcSchema = z
  .object({
    issuer: z.string().url().describe('The OIDC issuer; its JWKS is found through discovery unless `jwksUri` is set.'),
    audience: z.string().min(1).describe('Required `aud` of presented JWTs.'),
    groupsClaim: z.string().default('groups').describe('The claim holding the human\'s groups.'),
    emailClaim: z.string().default('email').describe('The claim holding the human\'s id (email). Values must be printable ASCII.'),
    requireVerifiedEmail: z
      .boolean()
      .default(true)
      .describe('Refuse tokens whose `email_verified` claim is not true (when the id comes from the `email` claim): an unverified address must not become a configured human.'),
    jwksUri: z.string().url().optional().describe('Overrides discovery.'),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(60).describe('Allowed clock skew.'),
  })
  .strict();

export const configSchema = z
  .object({
    listen: z
      .string()
      .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port')
      .default('127.0.0.1:8080')
      .describe('Address the HTTP API listens on. Port 0 picks a free port.'),
    publicUrl: z.string().url().optional().describe('The URL humans reach the gateway at; used in links sent to chat. Defaults to http://<listen>.'),
    store: storeSchema,
    policy: z.string().min(1).default('./policy.yaml').describe('Path of the policy file. Relative paths resolve against the config file.'),
    agents: z.array(agentSchema).default([]).describe('Agents allowed to submit actions.'),
    humans: z.array(humanSchema).default([]).describe('Humans who may review (and submit).'),
    groups: z.array(z.string()).default([]).describe('Extra group names that policy may name even if no configured human is in them (e.g. groups filled through OIDC).'),
    oidc: oidcSchema.optional().describe('Humans may present an OIDC JWT instead of a token.'),
    targets: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), targetSchema).default({}).describe('Systems actions run against, by name.'),
    mcp: mcpSchema,
    tools: toolsSchema,
    integrations: integrationsSchema,
    server: z
      .object({
        bodyLimitBytes: z.number().int().positive().max(16 * 1024 * 1024).default(1024 * 1024).describe('Largest accepted request body.'),
        maxWaitSeconds: z.number().int().min(0).max(300).default(60).describe('Longest long poll (`?wait=`).'),
        trustProxy: z.boolean().default(false).describe('Trust X-Forwarded-* headers.'),
      })
      .strict()
      .default({ bodyLimitBytes: 1024 * 1024, maxWaitSeconds: 60, trustProxy: false })
      .describe('HTTP server limits.'),
    scheduler: z
      .object({
        intervalMs: z.number().int().min(50).max(60_000).default(1000).describe('How often expiries, escalations and pending executions are swept.'),
      })
      .strict()
      .default({ intervalMs: 1000 })
      .describe('The durable scheduler: expiries and escalations are found in the store, never held only in memory.'),
    executions: z
      .object({
        concurrency: z
          .number()
          .int()
          .min(1)
          .max(10_000)
          .default(32)
          .describe(
            'Most approved actions the gateway runs at once. A bulk approval of more queues the rest: they stay `approved` (not `running`) until a slot frees, and run at most once as any other. Raise it for slow targets that many approvals reach at once; each running execution holds its upstream call and buffers.',
          ),
      })
      .strict()
      .default({ concurrency: 32 })
      .describe('Executions of approved actions (docs/executors.md).'),
    memory: z
      .object({
        heapGrowthPercent: z
          .number()
          .int()
          .min(0)
          .max(400)
          .default(0)
          .describe(
            'How far (in percent) V8 lets the heap grow past what its last full garbage collection left live before it collects again (its `--heap-growing-percent`, set by `countersign serve` at start). Without a cap V8 lets it reach about four times that, which after a bulk approval of thousands of waiting agents holds 100 MB of garbage for minutes; with 25 (and `NODE_OPTIONS=--max-semi-space-size=4`) ten thousand waiters stay under 300 MB. The cap makes full collections frequent: on a gateway deciding thousands of actions a second it costs about a tenth more CPU and raises the p99 (docs/benchmarks.md), hence 0 by default, which leaves V8 its own heuristics. A `--heap-growing-percent` in NODE_OPTIONS wins.',
          ),
      })
      .strict()
      .default({ heapGrowthPercent: 0 })
      .describe('Memory of the gateway process (docs/operations.md, Memory).'),
    audit: auditConfigSchema,
    redaction: z
      .object({
        window: z
          .number()
          .int()
          .min(MIN_REDACT_WINDOW)
          .max(MAX_REDACT_WINDOW)
          .default(MIN_REDACT_WINDOW)
          .describe(
            `Shortest run of consecutive characters of a secret that is redacted from results, errors and logs, in every form (as written, any case, URL-encoded, hex, base64, base64url, UTF-16). At least ${MIN_REDACT_WINDOW}: shorter runs of a secret are ordinary words and would shred responses. Raise it if a secret shares long runs with text its target returns; a target can then echo up to window - 1 characters of it.`,
          ),
      })
      .strict()
      .default({ window: MIN_REDACT_WINDOW })
      .describe('How configured secrets are found in what targets send back (docs/executors.md).'),
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Log level.'),
        format: z.enum(['auto', 'json', 'pretty']).default('auto').describe('`json`: one JSON object per line; `pretty`: readable lines (pino-pretty); `auto`: pretty when stdout is a terminal, JSON otherwise. Secrets are redacted either way.'),
      })
      .strict()
      .default({ level: 'info', format: 'auto' })
      .describe('Structured logging (pino); credentials are redacted.'),
    channels: channelsSchema.optional().describe('Slack, Microsoft Teams and signed outgoing webhooks (docs/channels.md).'),
    postgresListen: postgresListenSchema,
    console: consoleSchema.optional().describe('The approver web console with OIDC sign-in (docs/console.md).'),
    runners: runnersSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    // Identity clashes silently weaken separation of duties: refuse them at load.
    const agents = new Map<string, number>();
    c.agents.forEach((a, i) => {
      if (agents.has(a.id)) ctx.addIssue({ code: 'custom', path: ['agents', i, 'id'], message: `duplicate agent id "${a.id}"` });
      agents.set(a.id, i);
    });
    const humans = new Map<string, number>();
    c.humans.forEach((h, i) => {
      const id = h.id.toLowerCase();
      if (humans.has(id)) ctx.addIssue({ code: 'custom', path: ['humans', i, 'id'], message: `duplicate human id "${h.id}" (ids compare case-insensitively)` });
      if ([...agents.keys()].some((a) => a.toLowerCase() === id)) ctx.addIssue({ code: 'custom', path: ['humans', i, 'id'], message: `"${h.id}" is also an agent id` });
      humans.set(id, i);
    });
    // One chat account must map to one human: a shared mapping would make clicks ambiguous.
    for (const key of ['slackUserId', 'teamsAadObjectId'] as const) {
      const seen = new Map<string, number>();
      c.humans.forEach((h, i) => {
        const v = h[key]?.toLowerCase();
        if (v === undefined) return;
        if (seen.has(v)) ctx.addIssue({ code: 'custom', path: ['humans', i, key], message: `${key} ${h[key]} is already mapped to humans[${seen.get(v)}]` });
        seen.set(v, i);
      });
    }
    if (c.channels?.requireLinked && !c.console?.enabled) {
      ctx.addIssue({ code: 'custom', path: ['channels', 'requireLinked'], message: 'requireLinked needs the web console (console.enabled): chat accounts are linked by signing in to it' });
    }
    checkRunnerRefs(c, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
    if (!c.oidc) {
      c.agents.forEach((a, i) => {
        if (!humans.has(a.owner.toLowerCase())) {
          ctx.addIssue({ code: 'custom', path: ['agents', i, 'owner'], message: `owner "${a.owner}" is not a configured human (a typo here would let the real owner approve the agent's actions)` });
        }
      });
    }
  });

export type Config = z.infer<typeof configSchema>;
export type AgentConfig = z.infer<typeof agentSchema>;
export type HumanConfig = z.infer<typeof humanSchema>;
export type HttpTargetConfig = z.infer<typeof httpTargetSchema>;
export type TargetConfig = z.infer<typeof targetSchema>;
export type OidcConfig = z.infer<typeof oidcSchema>;

export const approverRef = z.string().refine(isApproverRef, { message: 'expected group:NAME or user:EMAIL' });
