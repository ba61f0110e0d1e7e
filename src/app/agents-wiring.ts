import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.js';
import type { ActionRequest } from '../domain/action.js';
import type { DecisionExtras } from '../domain/decision-extras.js';
import { AppError } from '../domain/errors.js';
import type { TargetCatalog } from '../domain/target-catalog.js';
import type { Redactor } from '../domain/redact-secrets.js';
import { claudeCodeRoutes } from '../integrations/claude-code-routes.js';
import type { McpGateway } from '../mcp/mcp-gateway.js';
import type { Authenticator } from '../ports/authenticator.js';
import type { Clock } from '../ports/clock.js';
import type { Executor } from '../ports/executor.js';
import type { HeldCallStore } from '../ports/held-calls.js';
import type { ToolPinStore } from '../ports/tool-pins.js';
import type { ExecutionService } from '../services/execution-service.js';
import type { HeldCallService } from '../services/held-call-service.js';
import { createHeldCallService } from '../services/held-call-service.js';
import type { PolicyService } from '../services/policy-service.js';
import type { QueryService } from '../services/query-service.js';
import type { SubmitService } from '../services/submit-service.js';

/** Largest stored MCP result. */
const MAX_MCP_RESULT_BYTES = 4 * 1024 * 1024;

export interface AgentWays {
  /** Runs approved `mcp` actions against the upstream servers (when any is configured). */
  mcpExecutor?: Executor;
  /** For the submit service: facts the gateway adds to `mcp` actions. */
  extras(request: ActionRequest): Promise<DecisionExtras | undefined>;
  /** Once the services exist. */
  start(services: { submit: SubmitService; queries: QueryService; executions: ExecutionService }): { held: HeldCallService; gateway?: McpGateway };
  /** Route groups for the HTTP app: /mcp and /integrations/claude-code. */
  plugins(authenticator: Authenticator): Array<(app: FastifyInstance) => void>;
  close(): Promise<void>;
}

/**
 * The ways agents plug in (MCP gateway, Claude Code hook), wired from config. The MCP
 * SDK is loaded only when MCP servers are configured: it is a sizeable part of the
 * process's memory, and without servers /mcp has nothing to serve.
 */
export async function createAgentWays(deps: {
  loaded: LoadedConfig;
  store: HeldCallStore & ToolPinStore;
  policy: PolicyService;
  targets: TargetCatalog;
  clock: Clock;
  logger: Logger;
  redactor: Redactor;
  publicUrl(): string;
}): Promise<AgentWays> {
  const { config } = deps.loaded;
  const mcp = Object.keys(config.mcp.servers).length
    ? await (async () => {
        const [{ createMcpExecutor }, { createMcpGateway }, { mcpHttpRoutes }, { createMcpUpstreams }] = await Promise.all([
          import('../adapters/executors/mcp-executor.js'),
          import('../mcp/mcp-gateway.js'),
          import('../mcp/mcp-http-routes.js'),
          import('../mcp/mcp-upstreams.js'),
        ]);
        const upstreams = createMcpUpstreams(config.mcp.servers);
        return { upstreams, createMcpGateway, mcpHttpRoutes, executor: createMcpExecutor({ upstreams, secrets: deps.loaded.secrets, redactor: deps.redactor, maxResultBytes: MAX_MCP_RESULT_BYTES }) };
      })()
    : undefined;
  let started: { held: HeldCallService; gateway?: McpGateway } | undefined;
  const ways: AgentWays = {
    ...(mcp ? { mcpExecutor: mcp.executor } : {}),
    async extras(r) {
      if (r.kind !== 'mcp') return undefined;
      if (!started) throw new AppError('INTERNAL', 'the MCP gateway is not started');
      return started.gateway?.extras(r);
    },
    start(services) {
      if (started) return started;
      const held = createHeldCallService({ ...services, held: deps.store, clock: deps.clock });
      if (!mcp) {
        started = { held };
        return started;
      }
      const gateway = mcp.createMcpGateway({
        config: config.mcp,
        upstreams: mcp.upstreams,
        pins: deps.store,
        held,
        policy: deps.policy,
        targets: deps.targets,
        clock: deps.clock,
        publicUrl: deps.publicUrl,
        onError: (e, server) => deps.logger.warn({ err: e, server }, 'MCP upstream listing failed'),
      });
      started = { held, gateway };
      return started;
    },
    plugins(authenticator) {
      if (!started) throw new Error('start the agent ways first');
      const { gateway, held } = started;
      return [
        ...(gateway && mcp ? [mcp.mcpHttpRoutes({ gateway, authenticator })] : []),
        claudeCodeRoutes({ held, authenticator, settings: config.integrations.claudeCode, publicUrl: deps.publicUrl }),
      ];
    },
    close: async () => mcp?.upstreams.close(),
  };
  return ways;
}
