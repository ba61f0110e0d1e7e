import { ACTION_KINDS } from './action.js';
import type { CompiledRule } from './policy-rule.js';

/**
 * Candidate rules per (kind, target), so that an evaluation looks at the rules that
 * can concern it rather than at all of them. Per kind: a map from each target name the
 * policy spells out to its rules, merged in policy order with the glob and target-less
 * rules that can match that name (globs are tried once, here, not per action). Any
 * other target gets the kind's glob and target-less rules. Candidates are a superset
 * of the matching rules: the full match is still checked for each.
 */
export interface RuleIndex {
  candidates(kind: string, target: string): readonly CompiledRule[];
}

interface KindBucket {
  exact: Map<string, CompiledRule[]>;
  globs: CompiledRule[];
}

export function buildIndex(rules: readonly CompiledRule[]): RuleIndex {
  const byKind = new Map<string, KindBucket>();
  for (const kind of ACTION_KINDS) byKind.set(kind, bucket(rules.filter((r) => !r.kinds || r.kinds.includes(kind))));
  // A kind the policy cannot name (not yet in ACTION_KINDS) still meets every rule without a kind.
  const other = bucket(rules.filter((r) => !r.kinds));
  return {
    candidates(kind, target) {
      const b = byKind.get(kind) ?? other;
      return b.exact.get(target) ?? b.globs;
    },
  };
}

function bucket(rules: readonly CompiledRule[]): KindBucket {
  const exact = new Map<string, CompiledRule[]>();
  const globs: CompiledRule[] = [];
  for (const r of rules) {
    if (!r.exactTargets) {
      globs.push(r);
      continue;
    }
    for (const t of new Set(r.exactTargets)) {
      const list = exact.get(t);
      if (list) list.push(r);
      else exact.set(t, [r]);
    }
  }
  for (const [t, list] of exact) exact.set(t, mergeByIndex(list, globs.filter((r) => !r.target || r.target(t))));
  return { exact, globs };
}

/** Two lists sorted by policy order, merged in that order. */
function mergeByIndex(a: readonly CompiledRule[], b: readonly CompiledRule[]): CompiledRule[] {
  const out: CompiledRule[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.index < b[j]!.index)) out.push(a[i++]!);
    else out.push(b[j++]!);
  }
  return out;
}
