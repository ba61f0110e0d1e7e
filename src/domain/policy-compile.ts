import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { compileCondition } from './policy-cel.js';
import type { Condition } from './policy-cel.js';
import { IMPLICIT_DEFAULT } from './policy-decision.js';
import { PolicyError } from './policy-error.js';
import { evaluate, explain } from './policy-evaluate.js';
import type { PolicyCore } from './policy-evaluate.js';
import { buildIndex } from './policy-index.js';
import { agentPresenceTests, failsOpen, presenceWarning } from './policy-lint.js';
import { readPolicySpec } from './policy-parse.js';
import type { GroupLookup } from './policy-parse.js';
import { buildRule } from './policy-rule.js';
import type { CompiledRule } from './policy-rule.js';
import type { CompiledPolicy } from './policy-types.js';
import { parseYamlSource } from './yaml-source.js';
import { checkHistoryRefs } from './policy-cel-history.js';
import { compileCounters, tallyOf } from './policy-counters.js';
import { celContext } from './policy-facts.js';
import type { CelContext } from './policy-facts.js';
import { DEFAULT_RULE_ID } from './policy-spec.js';
import type { SourceIssue, YamlSource } from './yaml-source.js';

export type { GroupLookup } from './policy-parse.js';
export { PolicyError } from './policy-error.js';

/**
 * Parses, validates and compiles a policy. Throws PolicyError listing every problem
 * (file:line:col); returns non-fatal warnings. Every condition is compiled here, once.
 */
export function compilePolicy(text: string, file: string, opts: GroupLookup): { policy: CompiledPolicy; warnings: SourceIssue[] } {
  const src = parseYamlSource(text, file);
  if (src.errors.length) throw new PolicyError(src.errors);
  const { spec, conditions, issues, warnings, counterNames } = readPolicySpec(src, opts);
  const compiled = new Map<string, Condition>();
  const asts = new Map<string, ASTNode>();
  const declared = new Set(counterNames ?? []);
  let readsHistory = false;
  for (const c of conditions) {
    const result = compileCondition(c.when, c.kinds, c.ruleId);
    const refs = result.ok ? checkHistoryRefs(result.ast, declared) : undefined;
    if (refs && 'problem' in refs) issues.push(locateInExpression(src, text, c.path, c.when, refs.offset, `CEL: ${refs.problem}`));
    else if (result.ok) {
      readsHistory ||= refs?.usesHistory === true;
      compiled.set(String(c.path[1]), result.condition);
      asts.set(String(c.path[1]), result.ast);
    } else issues.push(locateInExpression(src, text, c.path, c.when, result.offset, result.message));
  }
  const counted = spec ? compileCounters(spec.counters ?? [], src) : undefined;
  if (counted) issues.push(...counted.issues);
  if (!spec || issues.length) throw new PolicyError(sortIssues(issues));
  // A deny or review that needs an agent-controlled field present (or an allow that needs it absent) fails open when the agent hides it.
  for (const r of spec.rules) {
    const ast = asts.get(String(r.path[1]));
    if (!ast || r.when === undefined) continue;
    for (const t of agentPresenceTests(ast)) {
      if (failsOpen(t, r.outcome)) warnings.push(locateInExpression(src, text, [...r.path, 'when'], r.when, t.offset, presenceWarning(t, r.outcome)));
    }
  }

  const all: CompiledRule[] = spec.rules.map((r, i) => buildRule(r, i, src.locate(r.path, '').line, compiled.get(String(r.path[1]))));
  // Shadow rules are evaluated beside the others and recorded, never enforced (policy-shadow.ts).
  const rules = all.filter((_, i) => spec.rules[i]!.mode !== 'shadow');
  const shadowRules = all.filter((_, i) => spec.rules[i]!.mode === 'shadow');
  const counters = counted!.counters;
  const core: PolicyCore = {
    version: policyVersion(src.value),
    rules,
    index: buildIndex(rules),
    default: spec.default ?? IMPLICIT_DEFAULT,
    counters: new Map(counters.map((c) => [c.name, c])),
    shadow: shadowRules.length ? { rules: shadowRules, index: buildIndex(shadowRules) } : undefined,
  };
  const digests = ruleDigests(src.value);
  const policy: CompiledPolicy = {
    version: core.version,
    ruleCount: rules.length,
    evaluate: (input) => evaluate(core, input),
    explain: (input) => explain(core, input),
    counters,
    readsHistory,
    tally: (input) => {
      let ctx: CelContext | undefined;
      return tallyOf(counters, input, () => (ctx ??= celContext(input)));
    },
    ruleDigest: (id) => digests.get(id),
  };
  return { policy, warnings };
}

/** Digests of each rule's text as written (and of the default), by id. */
function ruleDigests(document: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const doc = document as { default?: unknown; rules?: unknown };
  if (doc.default !== undefined) out.set(DEFAULT_RULE_ID, sha256Hex(canonicalJson(doc.default)));
  if (Array.isArray(doc.rules)) {
    for (const r of doc.rules as Array<{ id?: unknown }>) if (typeof r?.id === 'string') out.set(r.id, sha256Hex(canonicalJson(r)));
  }
  return out;
}

/**
 * `sha256:<hex>` of the RFC 8785 canonical JSON of the document: layout, comments and
 * key order do not change it; any change of meaning does.
 */
export function policyVersion(document: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(document))}`;
}

function sortIssues(issues: SourceIssue[]): SourceIssue[] {
  return [...issues].sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * Points at the offending character of a condition when the expression sits on one
 * line as written (plain or quoted without escapes); otherwise at the expression.
 */
function locateInExpression(src: YamlSource, text: string, path: Array<string | number>, expr: string, offset: number | undefined, message: string): SourceIssue {
  const at = src.locate(path, message);
  if (offset === undefined || at.line === undefined || at.column === undefined || expr.includes('\n')) return at;
  const lineStart = nthLineStart(text, at.line);
  const start = lineStart + at.column - 1;
  if (text.startsWith(expr, start)) return { ...at, column: at.column + offset };
  if ((text[start] === '"' || text[start] === "'") && text.startsWith(expr, start + 1)) return { ...at, column: at.column + 1 + offset };
  return at;
}

function nthLineStart(text: string, line: number): number {
  let pos = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', pos);
    if (nl < 0) return pos;
    pos = nl + 1;
  }
  return pos;
}
