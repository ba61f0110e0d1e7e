import type { TargetFacts } from '../domain/policy-types.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { SourceIssue } from '../domain/yaml-source.js';
import { ConfigError } from './load.js';
import type { Config } from './schema.js';

/**
 * Targets that live outside `targets:`: each `mcp.servers.<name>` is a target of kind
 * `mcp`, each `tools.<name>` one of kind `tool`. Their facts carry no URL, command or
 * header: policy sees names and labels only.
 */
export function agentTargetFacts(config: Config, name: string): TargetFacts | undefined {
  if (Object.hasOwn(config.mcp.servers, name)) {
    const s = config.mcp.servers[name]!;
    const facts: TargetFacts = { name, kind: 'mcp', labels: { ...(s.labels ?? {}) } };
    if ('url' in s) facts.host = new URL(s.url).host;
    return facts;
  }
  if (Object.hasOwn(config.tools, name)) return { name, kind: 'tool', labels: { ...(config.tools[name]!.labels ?? {}) } };
  return undefined;
}

/** Every mcp and tool target; a name used twice across `targets`, `mcp.servers` and `tools` is a config error. */
export function agentTargets(config: Config, file = ''): TargetInfo[] {
  const issues: SourceIssue[] = [];
  const seen = new Set(Object.keys(config.targets));
  const out: TargetInfo[] = [];
  const add = (name: string, kind: 'mcp' | 'tool', path: string) => {
    if (seen.has(name)) issues.push({ file, path, message: `target name "${name}" is already used by another target` });
    seen.add(name);
    out.push({ name, kind, facts: agentTargetFacts(config, name)! });
  };
  for (const name of Object.keys(config.mcp.servers)) add(name, 'mcp', `mcp.servers.${name}`);
  for (const name of Object.keys(config.tools)) add(name, 'tool', `tools.${name}`);
  if (issues.length) throw new ConfigError(issues);
  return out;
}
