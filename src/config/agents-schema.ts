import { z } from 'zod';
import { isDuration, parseDuration } from '../domain/duration.js';
import type { ApproverRef } from '../domain/identity.js';
import { isApproverRef } from '../domain/identity.js';
import { isHttpUrl } from './url-protocol.js';

/**
 * Config for the ways agents plug in: the MCP gateway (`mcp`) and targets of kind
 * `tool` (`tools`: Claude Code, `countersign exec`, SDK guards). Composed into
 * configSchema; every key is described for docs/configuration.md.
 */

const duration = z.string().refine(isDuration, { message: 'expected a duration such as 45s, 15m or 2h' });
const labels = z.record(z.string(), z.string()).describe('Labels that policy can match on (`match.labels`).');
const approver = z.string().refine(isApproverRef, { message: 'expected group:NAME or user:EMAIL' });

/** Server names never contain `_`, so `<server>__<tool>` splits at its first `__`. */
export const MCP_SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,47}$/;

const stdioServer = z
  .object({
    command: z.string().min(1).describe('Executable of an upstream server spoken to over stdio (the gateway spawns it).'),
    args: z.array(z.string()).default([]).describe('Its arguments.'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment for it (credentials go here, as `${ENV}`). Never shown to agents or logged.'),
    cwd: z.string().optional().describe('Its working directory.'),
    timeout: duration.default('60s').describe('Longest upstream tools/call.'),
    labels: labels.optional(),
  })
  .strict();

const httpServer = z
  .object({
    url: z
      .string()
      .url()
      .refine(isHttpUrl, 'url must be http or https')
      .describe('Endpoint of an upstream server spoken to over Streamable HTTP.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Headers the gateway sends upstream (credentials go here, as `${ENV}`). Never shown to agents or logged.'),
    timeout: duration.default('60s').describe('Longest upstream tools/call.'),
    labels: labels.optional(),
  })
  .strict();

export const mcpServerSchema = z.union([stdioServer, httpServer]);

const REVIEW_DEFAULT: { approvers: ApproverRef[]; quorum: number; timeout: string } = { approvers: ['group:mcp-admins'], quorum: 1, timeout: '1h' };

export const mcpSchema = z
  .object({
    servers: z
      .record(z.string(), mcpServerSchema)
      .superRefine((servers, ctx) => {
        for (const name of Object.keys(servers)) {
          if (!MCP_SERVER_NAME.test(name)) {
            ctx.addIssue({ code: 'custom', path: [name], message: 'server names are 1-48 letters, digits or dashes (no underscore: tools are exposed as <server>__<tool>)' });
          }
        }
      })
      .default({})
      .describe('Upstream MCP servers, by name: `command`/`args` (stdio) or `url`/`headers` (Streamable HTTP). Each is a target of kind `mcp`.'),
    hold: duration
      .default('45s')
      .refine((d) => parseDuration(d) <= 10 * 60_000, 'at most 10m')
      .describe('How long a tools/call that needs review is held (with progress notifications) before it returns "approval pending". Keep it below your clients\' request timeout (often 60s).'),
    progressInterval: duration.default('5s').describe('How often a held call sends a progress notification (when the client asked for progress).'),
    hideDenied: z.boolean().default(false).describe('Leave out of tools/list the tools that policy denies outright for the calling agent.'),
    changedToolReview: z
      .object({
        approvers: z.array(approver).min(1).describe('Who may approve calls to a tool whose definition changed since it was first listed.'),
        quorum: z.number().int().min(1).max(10).default(1).describe('Approvals needed.'),
        timeout: duration.default('1h').describe('How long such a request waits.'),
      })
      .strict()
      .default(REVIEW_DEFAULT)
      .describe('The review that calls to a changed ("rug-pulled") tool need when policy would have allowed them.'),
  })
  .strict()
  .default({ servers: {}, hold: '45s', progressInterval: '5s', hideDenied: false, changedToolReview: REVIEW_DEFAULT })
  .describe('The MCP gateway: `countersign mcp` (stdio) and `/mcp` on `serve` (Streamable HTTP).');

export const toolTargetSchema = z.object({ labels: labels.optional() }).strict();

export const toolsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), toolTargetSchema)
  .default({ 'claude-code': {} })
  .describe('Targets of kind `tool`: tools that agents run themselves after a decision (decide mode), e.g. `claude-code` for the Claude Code hook, or a name for `countersign exec --target`.');

export const integrationsSchema = z
  .object({
    claudeCode: z
      .object({
        target: z.string().default('claude-code').describe('The `tools` target Claude Code actions are submitted to.'),
        wait: duration
          .default('50s')
          .refine((d) => parseDuration(d) <= 10 * 60_000, 'at most 10m')
          .describe('How long a PreToolUse call waits for a review before answering deny ("approval pending"). Set the hook\'s `timeout` in settings.json above it.'),
        onPending: z
          .enum(['deny', 'ask'])
          .default('deny')
          .describe('What to answer while a review is still pending after `wait`: `deny` (retry later) or `ask` (also let the local user decide in Claude Code; bypasses separation of duties).'),
      })
      .strict()
      .default({ target: 'claude-code', wait: '50s', onPending: 'deny' })
      .describe('The Claude Code PreToolUse hook (HTTP endpoint and `countersign hook claude-code`).'),
  })
  .strict()
  .default({ claudeCode: { target: 'claude-code', wait: '50s', onPending: 'deny' } })
  .describe('Integrations with agent runtimes.');

export type McpConfig = z.infer<typeof mcpSchema>;
export type McpServerConfig = z.infer<typeof mcpServerSchema>;
export type StdioMcpServerConfig = z.infer<typeof stdioServer>;
export type HttpMcpServerConfig = z.infer<typeof httpServer>;
