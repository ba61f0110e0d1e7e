import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpConfig } from '../config/agents-schema.js';
import type { ActionRequest } from '../domain/action.js';
import type { DecisionExtras } from '../domain/decision-extras.js';
import { parseDuration } from '../domain/duration.js';
import { AppError, isAppError } from '../domain/errors.js';
import type { Principal } from '../domain/identity.js';
import type { EvaluationInput } from '../domain/policy-types.js';
import type { TargetCatalog } from '../domain/target-catalog.js';
import type { Clock } from '../ports/clock.js';
import type { ToolPinStore } from '../ports/tool-pins.js';
import type { HeldCallService } from '../services/held-call-service.js';
import type { PolicyService } from '../services/policy-service.js';
import type { CatalogEntry, ServerCatalog } from './mcp-catalog.js';
import { createServerCatalog } from './mcp-catalog.js';
import { linkOf, pendingResult, refusedResult, settledResult } from './mcp-results.js';
import type { McpUpstreams } from './mcp-upstreams.js';

/** Tools are exposed as `<server>__<tool>`; server names never contain `_`. */
export const TOOL_SEPARATOR = '__';

export function exposedName(server: string, tool: string): string {
  return `${server}${TOOL_SEPARATOR}${tool}`;
}

export function splitToolName(name: string): { server: string; tool: string } | undefined {
  const i = name.indexOf(TOOL_SEPARATOR);
  if (i <= 0 || i + TOOL_SEPARATOR.length >= name.length) return undefined;
  return { server: name.slice(0, i), tool: name.slice(i + TOOL_SEPARATOR.length) };
}

export interface CallOptions {
  signal?: AbortSignal | undefined;
  /** Sent while a call is held for review (progress notifications). */
  progress?: ((elapsedMs: number, holdMs: number, message: string) => Promise<void>) | undefined;
}

export interface McpGateway {
  listTools(who: Principal, signal?: AbortSignal): Promise<Tool[]>;
  callTool(who: Principal, name: string, args: Record<string, unknown>, opts?: CallOptions): Promise<CallToolResult>;
  /** For the submit path of every `mcp` action: the tool's annotations and whether its definition changed. */
  extras(request: ActionRequest): Promise<DecisionExtras | undefined>;
  /** Upstreams told us their tools changed: the listener tells our own clients. */
  onToolsChanged(listener: () => void): () => void;
}

export function createMcpGateway(deps: {
  config: McpConfig;
  upstreams: McpUpstreams;
  pins: ToolPinStore;
  held: HeldCallService;
  policy: PolicyService;
  targets: TargetCatalog;
  clock: Clock;
  publicUrl: () => string;
  onError(e: unknown, server: string): void;
}): McpGateway {
  const { config } = deps;
  const holdMs = parseDuration(config.hold);
  const tickMs = parseDuration(config.progressInterval);
  const review = config.changedToolReview;
  const reviewIfChanged = {
    ruleId: 'mcp-tool-changed',
    reason: 'The tool\'s definition changed since it was first listed (possible rug pull): a human must approve calls to it',
    approvers: review.approvers,
    quorum: review.quorum,
    timeoutMs: parseDuration(review.timeout),
  };
  const catalogs = new Map<string, ServerCatalog>();
  const listeners = new Set<() => void>();
  for (const name of deps.upstreams.names()) {
    const up = deps.upstreams.get(name)!;
    catalogs.set(name, createServerCatalog(up, deps.pins, () => deps.clock.now().toISOString()));
    up.onToolsChanged(() => {
      for (const l of listeners) l();
    });
  }

  async function entryFor(server: string, tool: string): Promise<CatalogEntry> {
    const catalog = catalogs.get(server);
    if (!catalog) throw new AppError('TARGET_NOT_FOUND', `Unknown MCP server "${server}"`, { target: server });
    let entry = (await catalog.current()).get(tool);
    // A tool added since the last listing: list again once.
    entry ??= (await catalog.refresh()).get(tool);
    if (!entry) throw new AppError('VALIDATION_FAILED', `input.tool: server "${server}" lists no tool "${tool}"`);
    return entry;
  }

  function extrasOf(entry: CatalogEntry): DecisionExtras {
    const annotations = entry.tool.annotations as Record<string, unknown> | undefined;
    return { hints: { annotations: annotations ?? {} }, ...(entry.changed ? { reviewIfAllowed: reviewIfChanged } : {}) };
  }

  /** Denied whatever the arguments: a deny rule fired whose condition (if any) reads nothing the call supplies. */
  function deniedOutright(who: Principal, server: string, entry: CatalogEntry): boolean {
    const policy = deps.policy.current();
    const target = deps.targets.get(server);
    if (!policy || !target) return false;
    const input: EvaluationInput = {
      action: { kind: 'mcp', target: server, input: { tool: entry.tool.name, arguments: {} }, mode: 'execute' },
      requester: { id: who.id, type: who.type, owner: who.type === 'agent' ? who.owner : undefined, labels: who.type === 'agent' ? who.labels : {} },
      target: target.facts,
      hints: extrasOf(entry).hints,
    };
    const trace = policy.explain(input);
    if (trace.decision.outcome !== 'deny') return false;
    return trace.rules.some((r) => r.fired && r.outcome === 'deny' && !/arguments|action\s*\.\s*(input|context|justification|onBehalfOf)/.test(r.condition?.expression ?? ''));
  }

  return {
    async listTools(who, signal) {
      const out: Tool[] = [];
      const listings = await Promise.all(
        [...catalogs].map(async ([server, catalog]) => {
          try {
            return { server, entries: [...(await catalog.refresh(signal)).values()] };
          } catch (e) {
            deps.onError(e, server);
            return { server, entries: [] };
          }
        }),
      );
      for (const { server, entries } of listings) {
        for (const entry of entries) {
          if (config.hideDenied && deniedOutright(who, server, entry)) continue;
          out.push({ ...entry.tool, name: exposedName(server, entry.tool.name) });
        }
      }
      return out;
    },

    async callTool(who, name, args, opts = {}) {
      const parts = splitToolName(name);
      if (!parts || !catalogs.has(parts.server)) return refusedResult('TOOL_NOT_FOUND', `no tool named "${name}"`);
      const request: ActionRequest = { kind: 'mcp', target: parts.server, input: { tool: parts.tool, arguments: args }, mode: 'execute' };
      try {
        const outcome = await deps.held.call(who, request, {
          holdMs,
          tickMs,
          signal: opts.signal,
          onTick: opts.progress
            ? (elapsed, a) => opts.progress!(elapsed, holdMs, `Waiting for approval of action ${a.id} (${Math.round(elapsed / 1000)}s)`)
            : undefined,
        });
        const link = linkOf(deps.publicUrl(), outcome.action);
        return outcome.state === 'pending' ? pendingResult(outcome.action, link) : settledResult(outcome.action, link);
      } catch (e) {
        if (isAppError(e) && e.status < 500) return refusedResult(e.code, e.message);
        throw e;
      }
    },

    async extras(request) {
      if (request.kind !== 'mcp') return undefined;
      return extrasOf(await entryFor(request.target, String(request.input.tool)));
    },

    onToolsChanged(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
