import { Environment } from '@marcbachmann/cel-js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { ACTION_KINDS, kindVariable } from './action.js';
import type { ActionKind } from './action.js';
import { regexProblem } from './regex-safety.js';
import { registerHistoryVariables } from './policy-cel-history.js';
import { registerKindVariable, unknownFactMessage } from './policy-cel-types.js';

/*
 * CEL library: @marcbachmann/cel-js, chosen over @bufbuild/cel after measuring both on
 * our rule shapes (bench/policy-bench.mjs; numbers in docs/policy.md). Both got `in`,
 * `matches`, `size`, `has` and the string functions right. cel-js evaluates 3-10x
 * faster (0.2-1 µs per condition against 1.5-3 µs, and against 22 µs for a `matches`,
 * which @bufbuild/cel compiles to RE2 on every call) and compiles about 10x faster; it
 * has no dependency (@bufbuild/cel needs @bufbuild/protobuf); and its type checker
 * lets us refuse, when the policy loads, a `when` that is not a bool or that names an
 * unknown variable; @bufbuild/cel 0.6 exposes no checker. Its one weakness for us,
 * `matches` on JavaScript's backtracking RegExp, is guarded by regex-safety.ts.
 */

/** Variables every condition sees. Kind facts (`http`, `mcp`, `tool`) are added per rule. */
export const BASE_VARIABLES = ['action', 'requester', 'target'] as const;

export interface Condition {
  readonly expression: string;
  /** Evaluates the expression; throws on a CEL evaluation error. */
  run(context: Record<string, unknown>): unknown;
}

export type ConditionCompile = { ok: true; condition: Condition; ast: ASTNode } | { ok: false; message: string; offset?: number | undefined };

const base = new Environment();
for (const v of BASE_VARIABLES) base.registerVariable(v, 'map');
// Counters, first times and the time of day (issue 17): policy-cel-history.ts.
registerHistoryVariables(base);
const envs = new Map<string, Environment>();

/**
 * A rule may use the facts of the kinds it matches and no others, so that `http.method`
 * in a rule that could see an MCP call is a load error, not a runtime surprise.
 */
function envFor(kinds: readonly ActionKind[], typed = false): Environment {
  const key = `${typed ? 'typed:' : ''}${[...kinds].sort().join(',')}`;
  let env = envs.get(key);
  if (!env) {
    env = base.clone();
    for (const k of ACTION_KINDS) {
      if (!kinds.includes(k)) continue;
      if (typed) registerKindVariable(env, k);
      else env.registerVariable(kindVariable(k), 'map');
    }
    envs.set(key, env);
  }
  return env;
}

/**
 * Checks the condition against the kinds' typed facts (policy-fact-types.ts): a field no
 * kind has (`http.methd`) or a fact used as the wrong type (`http.method == 1`) is refused.
 * Evaluation keeps the untyped environment: declarations decide what loads, not results.
 */
function checkTypedFacts(expression: string, kinds: readonly ActionKind[], ruleId: string | undefined): ConditionCompile | undefined {
  if (!kinds.length) return undefined;
  const parsed = envFor(kinds, true).parse(expression);
  const checked = parsed.check();
  if (checked.valid) return undefined;
  const err = checked.error as { summary?: string; message?: string; range?: { start: number } };
  const summary = err.summary ?? err.message?.split('\n')[0] ?? '';
  const key = /^No such key: (.+)$/.exec(summary)?.[1];
  const message = key ? unknownFactMessage(parsed.ast, key, err.range?.start) : summary;
  return { ok: false, message: `CEL: ${ruleId ? `rule ${ruleId}: ` : ''}${message}`, offset: err.range?.start };
}

export function compileCondition(expression: string, kinds: readonly ActionKind[] | undefined, ruleId?: string): ConditionCompile {
  const env = envFor(kinds ?? []);
  let parsed: ReturnType<Environment['parse']>;
  try {
    parsed = env.parse(expression);
  } catch (e) {
    return celFailure(e, kinds);
  }
  const checked = parsed.check();
  if (!checked.valid) return celFailure(checked.error, kinds);
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, message: `when must be a boolean expression; this one is of type ${checked.type}` };
  }
  const typedIssue = checkTypedFacts(expression, kinds ?? [], ruleId);
  if (typedIssue) return typedIssue;
  const regexIssue = checkPatterns(parsed.ast);
  if (regexIssue) return { ok: false, message: regexIssue.message, offset: regexIssue.offset };
  return { ok: true, condition: { expression, run: parsed }, ast: parsed.ast };
}

function celFailure(e: unknown, kinds: readonly ActionKind[] | undefined): ConditionCompile {
  const err = e as { summary?: string; message?: string; range?: { start: number }; code?: string } | undefined;
  let message = err?.summary ?? err?.message?.split('\n')[0] ?? String(e);
  const unknown = /^Unknown variable: (\w+)/.exec(message)?.[1];
  const kindOf = unknown ? ACTION_KINDS.find((k) => kindVariable(k) === unknown) : undefined;
  if (unknown && kindOf) {
    message = `\`${unknown}\` is only available in rules whose match.kind is ${kindOf}${kinds?.length ? ` (this rule matches ${kinds.join(', ')})` : ' (this rule sets no match.kind)'}`;
  } else if (unknown) {
    message = `unknown variable "${unknown}"; conditions can use ${[...BASE_VARIABLES, ...(kinds ?? []).map(kindVariable)].join(', ')}`;
  }
  return { ok: false, message: `CEL: ${message}`, offset: err?.range?.start };
}

/** `matches` needs a literal pattern we can vet now: a pattern taken from the input could be chosen to stall us. */
function checkPatterns(node: ASTNode): { message: string; offset: number } | undefined {
  if (node.op === 'rcall' || node.op === 'call') {
    const [name] = node.args;
    const patternArg = node.op === 'rcall' ? node.args[2][0] : node.args[1][1];
    if (name === 'matches' && patternArg) {
      if (patternArg.op !== 'value' || typeof patternArg.args !== 'string') {
        return { message: 'matches() takes a string literal pattern (a pattern built from the input could be chosen to stall the gateway)', offset: patternArg.start };
      }
      const problem = regexProblem(patternArg.args);
      if (problem) return { message: `matches("${patternArg.args}"): ${problem}`, offset: patternArg.start };
    }
  }
  for (const child of children(node)) {
    const found = checkPatterns(child);
    if (found) return found;
  }
  return undefined;
}

function children(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const visit = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) visit(y);
    else if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) out.push(x as ASTNode);
  };
  if (node.op !== 'value' && node.op !== 'id') visit(node.args);
  return out;
}

/** The environment of a rule matching these kinds, for expressions that are not conditions (a counter's weight). */
export function celEnvironment(kinds: readonly ActionKind[] | undefined): Environment {
  return envFor(kinds ?? []);
}
