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
  const { spec, conditions, issues, warnings } = readPolicySpec(src, opts);
  const compiled = new Map<string, Condition>();
  const asts = new Map<string, ASTNode>();
  for (const c of conditions) {
    const result = compileCondition(c.when, c.kinds, c.ruleId);
    if (result.ok) {
      compiled.set(String(c.path[1]), result.condition);
      asts.set(String(c.path[1]), result.ast);
    } else issues.push(locateInExpression(src, text, c.path, c.when, result.offset, result.message));
  }
  if (!spec || issues.length) throw new PolicyError(sortIssues(issues));
  // A deny or review that needs an agent-controlled field present (or an allow that needs it absent) fails open when the agent hides it.
  for (const r of spec.rules) {
    const ast = asts.get(String(r.path[1]));
    if (!ast || r.when === undefined) continue;
    for (const t of agentPresenceTests(ast)) {
      if (failsOpen(t, r.outcome)) warnings.push(locateInExpression(src, text, [...r.path, 'when'], r.when, t.offset, presenceWarning(t, r.outcome)));
    }
  }

  const rules: CompiledRule[] = spec.rules.map((r, i) => buildRule(r, i, src.locate(r.path, '').line, compiled.get(String(r.path[1]))));

  const core: PolicyCore = { version: policyVersion(src.value), rules, index: buildIndex(rules), default: spec.default ?? IMPLICIT_DEFAULT };
  const policy: CompiledPolicy = {
    version: core.version,
    ruleCount: rules.length,
    evaluate: (input) => evaluate(core, input),
    explain: (input) => explain(core, input),
  };
  return { policy, warnings };
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
