import { COUNTER_DIMS, COUNT_ON } from './history-types.js';
import type { CounterDim, CountOn } from './history-types.js';
import type { CounterSpec, GrantBounds, RuleMode } from './counter-spec.js';
import { RULE_MODES } from './counter-spec.js';
import { pathPatternProblem } from './grant-path.js';
import { scopeEntryProblem } from './grant-scope.js';
import type { KeyPath, SpecReader } from './policy-reader.js';
import { isMapping } from './policy-reader.js';
import type { MatchSpec } from './policy-spec.js';

/*
 * The parts of a policy that tune reviews (docs/policy.md): `counters:`, a rule's
 * `mode: shadow`, a review's `grants:`. Read like the rest of the policy (policy-parse.ts).
 */

const COUNTER_KEYS = ['match', 'when', 'by', 'window', 'count', 'weight'] as const;
const GRANT_KEYS = ['maxTtl', 'maxUses', 'scope', 'paths'] as const;
/** A counter is read as `counters.NAME` in CEL, so its name is a CEL identifier. */
const COUNTER_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Longest counter window: counters are kept in memory for this long. */
export const MAX_COUNTER_WINDOW_MS = 31 * 86_400_000;
export const MAX_GRANT_USES = 10_000;
export const MAX_GRANT_TTL_MS = 30 * 86_400_000;

export function readCounters(
  r: SpecReader,
  raw: unknown,
  readMatch: (raw: unknown, path: KeyPath) => MatchSpec | undefined,
): CounterSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!isMapping(raw)) return r.fail(['counters'], 'counters must be a mapping of counter names to { match, when, by, window }') ?? [];
  const out: CounterSpec[] = [];
  for (const [name, value] of Object.entries(raw)) {
    const path: KeyPath = ['counters', name];
    if (!COUNTER_NAME.test(name)) {
      r.fail(path, `counter name "${name}" must be letters, digits and underscores, starting with a letter: policies read it as counters.${name.replace(/\W/g, '_')}`);
      continue;
    }
    const m = r.mapping(value, path, COUNTER_KEYS, `counter ${name}`);
    if (!m) continue;
    const before = r.issues.length;
    const match = m.match === undefined ? {} : readMatch(m.match, [...path, 'match']);
    const when = m.when === undefined ? undefined : r.string(m.when, [...path, 'when'], 'when (a CEL expression)');
    const weight = m.weight === undefined ? undefined : r.string(m.weight, [...path, 'weight'], 'weight (a CEL int expression)');
    const by = (m.by === undefined ? [] : r.list(m.by, [...path, 'by'], 'by', (d) => ((COUNTER_DIMS as readonly string[]).includes(d) ? undefined : `unknown counter dimension "${d}"; expected one of: ${COUNTER_DIMS.join(', ')}`))) as
      | CounterDim[]
      | undefined;
    const windowMs = m.window === undefined ? r.fail(path, `counter ${name} needs a window (e.g. 1h): it counts the actions of that last stretch of time`) : r.duration(m.window, [...path, 'window'], 'window');
    if (windowMs !== undefined && windowMs > MAX_COUNTER_WINDOW_MS) r.fail([...path, 'window'], 'a counter window is at most 31d');
    let count: CountOn = 'allowed';
    if (m.count !== undefined) {
      if (typeof m.count !== 'string' || !(COUNT_ON as readonly string[]).includes(m.count)) r.fail([...path, 'count'], `count must be one of ${COUNT_ON.join(', ')} (got ${JSON.stringify(m.count)})`);
      else count = m.count as CountOn;
    }
    if (r.issues.length > before || !match || !by || windowMs === undefined) continue;
    out.push({ name, path, match, when, by: [...new Set(by)], windowMs, count, weight });
  }
  return out;
}

export function readRuleMode(r: SpecReader, raw: unknown, path: KeyPath): RuleMode | undefined {
  if (raw === undefined) return 'enforce';
  if (typeof raw !== 'string' || !(RULE_MODES as readonly string[]).includes(raw)) return r.fail(path, `mode must be one of ${RULE_MODES.join(', ')} (got ${JSON.stringify(raw)})`);
  return raw as RuleMode;
}

export function readGrantBounds(r: SpecReader, raw: unknown, path: KeyPath): GrantBounds | undefined {
  const m = r.mapping(raw, path, GRANT_KEYS, 'grants');
  if (!m) return undefined;
  const before = r.issues.length;
  const maxTtlMs = m.maxTtl === undefined ? r.fail(path, 'grants needs maxTtl (e.g. 1h): the longest a grant may last') : r.duration(m.maxTtl, [...path, 'maxTtl'], 'maxTtl');
  if (maxTtlMs !== undefined && maxTtlMs > MAX_GRANT_TTL_MS) r.fail([...path, 'maxTtl'], 'maxTtl is at most 30d');
  let maxUses: number | undefined;
  if (m.maxUses === undefined) r.fail(path, 'grants needs maxUses: the most actions a grant may cover');
  else if (typeof m.maxUses !== 'number' || !Number.isSafeInteger(m.maxUses) || m.maxUses < 1 || m.maxUses > MAX_GRANT_USES) {
    r.fail([...path, 'maxUses'], `maxUses must be an integer from 1 to ${MAX_GRANT_USES}; got ${JSON.stringify(m.maxUses)}`);
  } else maxUses = m.maxUses;
  const scope = m.scope === undefined ? [] : r.list(m.scope, [...path, 'scope'], 'scope', scopeEntryProblem);
  // The widest path patterns a reviewer may widen a pinned http.path to (grant-path.ts).
  const paths = m.paths === undefined ? [] : r.list(m.paths, [...path, 'paths'], 'paths', pathPatternProblem);
  if (paths?.length && scope && !scope.includes('http.path')) r.fail([...path, 'paths'], 'paths widens a pinned http.path: add http.path to scope (without it, grants cover any path)');
  if (r.issues.length > before || maxTtlMs === undefined || maxUses === undefined || !scope || !paths) return undefined;
  return { maxTtlMs, maxUses, scope: [...new Set(scope)], ...(paths.length ? { paths: [...new Set(paths)] } : {}) };
}
