import type { GroupLookup } from '../domain/policy-compile.js';
import type { EvaluationInput, TargetFacts } from '../domain/policy-types.js';
import { agentTargetFacts } from './agent-targets.js';
import { postgresHost } from './postgres-schema.js';
import type { Config } from './schema.js';

/**
 * What policy may know from the config: groups, requesters' labels and owners,
 * targets' hosts and labels. Everything here comes from the operator, never from an
 * agent, which is why policy can trust labels.
 */
export function configGroups(config: Config): Required<GroupLookup> {
  const sizes = new Map<string, number>();
  for (const g of [...config.groups, ...config.audit.readerGroups]) sizes.set(g, sizes.get(g) ?? 0);
  for (const h of config.humans) for (const g of new Set(h.groups)) sizes.set(g, (sizes.get(g) ?? 0) + 1);
  return { groupExists: (name) => sizes.has(name), groupSize: (name) => sizes.get(name) ?? 0 };
}

export function targetFacts(config: Config, name: string): TargetFacts | undefined {
  if (!Object.hasOwn(config.targets, name)) return agentTargetFacts(config, name);
  const t = config.targets[name]!;
  switch (t.kind) {
    case 'http':
      return { name, kind: t.kind, host: new URL(t.baseUrl).host, labels: { ...(t.labels ?? {}) }, ...injectedContentType(t.headers) };
    case 'postgres': {
      const host = t.url === undefined ? undefined : postgresHost(t.url);
      return { name, kind: t.kind, ...(host ? { host } : {}), labels: { ...(t.labels ?? {}) } };
    }
    case 'command':
      return { name, kind: t.kind, labels: { ...(t.labels ?? {}) } };
  }
}

export function requesterFacts(config: Config, id: string): EvaluationInput['requester'] | undefined {
  const agent = config.agents.find((a) => a.id === id);
  if (agent) return { id: agent.id, type: 'agent', owner: agent.owner, labels: { ...(agent.labels ?? {}) } };
  const human = config.humans.find((h) => h.id.toLowerCase() === id.toLowerCase());
  if (human) return { id: human.id, type: 'human', labels: {} };
  return undefined;
}

/** The content-type header a target injects, if any: the executor sends it instead of the agent's. */
function injectedContentType(headers: Record<string, string> | undefined): { contentType?: string } {
  const found = Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === 'content-type');
  return found ? { contentType: found[1] } : {};
}
