/** Who is calling. Agents submit; humans review (and may submit). */
export type Principal =
  | { type: 'agent'; id: string; owner: string; labels: Record<string, string> }
  | { type: 'human'; id: string; groups: readonly string[] };

/** A reference to approvers in policy: `group:NAME` or `user:EMAIL`. */
export type ApproverRef = `group:${string}` | `user:${string}`;

export function isApproverRef(s: string): s is ApproverRef {
  return /^(group|user):[^\s:][^\s]*$/.test(s);
}

export interface HumanEntry {
  id: string;
  groups: readonly string[];
}

export interface AgentEntry {
  id: string;
  owner: string;
  labels: Record<string, string>;
}

/**
 * The directory of known identities, built from config (and OIDC claims at request
 * time). Pure data: lookups only.
 */
export interface Directory {
  human(id: string): HumanEntry | undefined;
  agent(id: string): AgentEntry | undefined;
  groupExists(name: string): boolean;
}

export function buildDirectory(humans: readonly HumanEntry[], agents: readonly AgentEntry[], extraGroups: readonly string[] = []): Directory {
  const h = new Map(humans.map((x) => [x.id.toLowerCase(), x]));
  const a = new Map(agents.map((x) => [x.id, x]));
  const groups = new Set<string>(extraGroups);
  for (const x of humans) for (const g of x.groups) groups.add(g);
  return {
    human: (id) => h.get(id.toLowerCase()),
    agent: (id) => a.get(id),
    groupExists: (name) => groups.has(name),
  };
}

/** Whether an approver reference names this human (emails compare case-insensitively). */
export function refMatches(ref: string, human: { id: string; groups: readonly string[] }): boolean {
  if (ref.startsWith('user:')) return ref.slice(5).toLowerCase() === human.id.toLowerCase();
  if (ref.startsWith('group:')) return human.groups.includes(ref.slice(6));
  return false;
}
