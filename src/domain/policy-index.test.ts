import { describe, expect, it } from 'vitest';
import { compilePolicy } from './policy-compile.js';
import type { EvaluationInput, Outcome } from './policy-types.js';

/** Deterministic PRNG (mulberry32): failures reproduce from the seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KINDS = ['http', 'mcp', 'tool', 'sql'];
const TARGETS = ['github', 'gitlab', 'jira', 'db-prod', 'db-staging', 'slack'];
const TARGET_PATTERNS = ['github', 'gitlab', 'jira', 'db-prod', 'git*', 'db-*', '*', '*-prod', 'sl?ck'];
const REQUESTERS = ['deploy-bot', 'ci-bot', 'sandbox-1', 'sandbox-22'];
const REQUESTER_PATTERNS = ['deploy-bot', 'sandbox-*', '*-bot', 'ci-bot'];
const METHODS = ['GET', 'POST', 'DELETE'];

/** Conditions over `action.input`, usable by any kind, with a JS reference: true, false, or 'error'. */
const CONDITIONS: Array<{ cel: string; ref: (input: Record<string, unknown>) => boolean | 'error' }> = [
  ...METHODS.map((m) => ({ cel: `action.input.method == "${m}"`, ref: (i: Record<string, unknown>) => ('method' in i ? i.method === m : 'error') })),
  { cel: 'action.input.path.startsWith("/a")', ref: (i) => (typeof i.path === 'string' ? i.path.startsWith('/a') : 'error') },
  { cel: 'true', ref: () => true },
  { cel: 'false', ref: () => false },
  { cel: 'action.input.method', ref: () => 'error' }, // a string, not a bool
];

interface RuleModel {
  id: string;
  kinds?: string[];
  targets?: string[];
  requesters?: string[];
  labels?: Record<string, string>;
  cond?: (typeof CONDITIONS)[number];
  outcome: Outcome;
}

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function some<T>(r: () => number, xs: readonly T[]): T[] {
  const n = 1 + Math.floor(r() * 2);
  return Array.from({ length: n }, () => pick(r, xs));
}

function randomRule(r: () => number, id: string): RuleModel {
  const rule: RuleModel = { id, outcome: pick(r, ['allow', 'allow', 'review', 'deny'] as const) };
  if (r() < 0.8) rule.kinds = some(r, ['http', 'mcp', 'tool']);
  if (r() < 0.8) rule.targets = some(r, TARGET_PATTERNS);
  if (r() < 0.3) rule.requesters = some(r, REQUESTER_PATTERNS);
  if (r() < 0.25) rule.labels = r() < 0.5 ? { env: pick(r, ['prod', 'dev']) } : { env: 'prod', team: pick(r, ['a', 'b']) };
  if (r() < 0.7) rule.cond = pick(r, CONDITIONS);
  return rule;
}

function toYaml(rules: RuleModel[], def: Outcome | undefined): string {
  const lines = def ? [`default: { outcome: ${def}${def === 'review' ? ', review: { approvers: [group:g], timeout: 5m }' : ''} }`] : [];
  lines.push('rules:');
  for (const x of rules) {
    const match: string[] = [];
    if (x.kinds) match.push(`kind: ${JSON.stringify(x.kinds)}`);
    if (x.targets) match.push(`target: ${JSON.stringify(x.targets)}`);
    if (x.requesters) match.push(`requester: ${JSON.stringify(x.requesters)}`);
    if (x.labels) match.push(`labels: ${JSON.stringify(x.labels)}`);
    lines.push(`  - id: ${x.id}`, `    match: { ${match.join(', ')} }`, `    outcome: ${x.outcome}`);
    if (x.cond) lines.push(`    when: ${JSON.stringify(x.cond.cel)}`);
    if (x.outcome === 'review') lines.push('    review: { approvers: [group:g], timeout: 5m }');
  }
  return `${lines.join('\n')}\n`;
}

const globRe = (g: string) => new RegExp(`^${g.replace(/[.+^${}()|[\]\\-]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/** The semantics, restated independently of the engine: which rules fire for an input. */
function referenceFired(rules: RuleModel[], e: EvaluationInput): string[] {
  const labels: Record<string, string> = { ...e.requester.labels, ...e.target.labels };
  return rules
    .filter((x) => {
      if (x.kinds && !x.kinds.includes(e.action.kind)) return false;
      if (x.targets && !x.targets.some((t) => globRe(t).test(e.action.target))) return false;
      if (x.requesters && !x.requesters.some((t) => globRe(t).test(e.requester.id))) return false;
      if (x.labels && !Object.entries(x.labels).every(([k, v]) => labels[k] === v)) return false;
      if (!x.cond) return true;
      const v = x.cond.ref(e.action.input);
      return v === 'error' ? x.outcome !== 'allow' : v;
    })
    .map((x) => x.id);
}

function randomInput(r: () => number): EvaluationInput {
  const kind = pick(r, KINDS);
  const target = pick(r, TARGETS);
  const input: Record<string, unknown> = {};
  if (r() < 0.85) input.method = pick(r, METHODS);
  if (r() < 0.85) input.path = pick(r, ['/a/b', '/b', '/abc']);
  const labels = (): Record<string, string> => (r() < 0.5 ? {} : r() < 0.5 ? { env: pick(r, ['prod', 'dev']) } : { env: pick(r, ['prod', 'dev']), team: pick(r, ['a', 'b']) });
  return {
    action: { kind, target, input, mode: 'execute' },
    requester: { id: pick(r, REQUESTERS), type: 'agent', labels: labels() },
    target: { name: target, kind, labels: labels() },
  };
}

const RANK: Record<Outcome, number> = { allow: 0, review: 1, deny: 2 };

describe('the rule index', () => {
  it('indexed evaluation agrees with evaluating every rule, and with the reference semantics, on random policies and actions', () => {
    const r = rng(0xc0ffee);
    let checked = 0;
    let firedSome = 0;
    for (let p = 0; p < 150; p++) {
      const n = 1 + Math.floor(r() * 40);
      const rules = Array.from({ length: n }, (_, i) => randomRule(r, `r${i}`));
      const def = r() < 0.2 ? undefined : pick(r, ['allow', 'review', 'deny'] as const);
      const { policy } = compilePolicy(toYaml(rules, def), `random-${p}.yaml`, { groupExists: () => true });
      for (let k = 0; k < 150; k++) {
        const e = randomInput(r);
        const indexed = policy.evaluate(e);
        expect(indexed).toEqual(policy.explain(e).decision);
        const fired = referenceFired(rules, e);
        if (fired.length === 0) {
          expect(indexed.rules).toEqual(['default']);
          expect(indexed.outcome).toBe(def ?? 'deny');
        } else {
          firedSome++;
          expect(indexed.rules).toEqual(fired);
          const strictest = fired.map((id) => rules.find((x) => x.id === id)!.outcome).reduce((a, b) => (RANK[b] > RANK[a] ? b : a));
          expect(indexed.outcome).toBe(strictest);
          const reviewRules = fired.filter((id) => rules.find((x) => x.id === id)!.outcome === 'review');
          expect(indexed.requirements.map((q) => q.ruleId)).toEqual(strictest === 'review' ? reviewRules : []);
        }
        checked++;
      }
    }
    expect(checked).toBe(150 * 150);
    // The generator must exercise both paths, or the property says little.
    expect(firedSome).toBeGreaterThan(checked / 4);
    expect(firedSome).toBeLessThan(checked);
  });
});
