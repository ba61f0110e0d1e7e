import type { ASTNode } from '@marcbachmann/cel-js';
import type { CounterSpec } from './counter-spec.js';
import { counterKey } from './history-types.js';
import type { CounterDim, CountOn, TallyEntry } from './history-types.js';
import { celEnvironment, compileCondition } from './policy-cel.js';
import type { Condition } from './policy-cel.js';
import { checkHistoryRefs } from './policy-cel-history.js';
import type { CelContext } from './policy-facts.js';
import { buildRule, matchFailure, testCondition } from './policy-rule.js';
import type { CompiledRule } from './policy-rule.js';
import type { EvaluationInput } from './policy-types.js';
import type { SourceIssue, YamlSource } from './yaml-source.js';

/** A counter ready to tally: its match and condition compiled like a rule's. */
export interface CompiledCounter {
  readonly name: string;
  readonly windowMs: number;
  readonly on: CountOn;
  readonly by: readonly CounterDim[];
  /** Match part, reused from rules (kind, target, requester, labels). */
  readonly rule: CompiledRule;
  readonly weight: { run(ctx: Record<string, unknown>): unknown } | undefined;
}

/**
 * Compiles `counters:`. A counter's `when` and `weight` see the same facts as a rule
 * matching its kinds, and `now`, but never counters or history: a hit must not depend
 * on other hits.
 */
export function compileCounters(specs: readonly CounterSpec[], src: YamlSource): { counters: CompiledCounter[]; issues: SourceIssue[] } {
  const issues: SourceIssue[] = [];
  const counters: CompiledCounter[] = [];
  const none = new Set<string>();
  specs.forEach((c, i) => {
    let condition: Condition | undefined;
    if (c.when !== undefined) {
      const r = compileCondition(c.when, c.match.kinds);
      if (!r.ok) issues.push(src.locate([...c.path, 'when'], r.message));
      else if (refused(r.ast, none)) issues.push(src.locate([...c.path, 'when'], refused(r.ast, none)!));
      else condition = r.condition;
    }
    let weight: CompiledCounter['weight'];
    if (c.weight !== undefined) {
      try {
        const parsed = celEnvironment(c.match.kinds).parse(c.weight);
        const checked = parsed.check();
        if (!checked.valid) issues.push(src.locate([...c.path, 'weight'], `CEL: ${checked.error?.message.split('\n')[0] ?? 'invalid'}`));
        else if (checked.type !== 'int' && checked.type !== 'dyn') issues.push(src.locate([...c.path, 'weight'], `weight must be an int expression; this one is of type ${checked.type}`));
        else if (refused(parsed.ast, none)) issues.push(src.locate([...c.path, 'weight'], refused(parsed.ast, none)!));
        else weight = { run: parsed };
      } catch (e) {
        issues.push(src.locate([...c.path, 'weight'], `CEL: ${(e as Error).message.split('\n')[0] ?? ''}`));
      }
    }
    const rule = buildRule({ id: `counter:${c.name}`, path: c.path, match: c.match, outcome: 'allow' }, i, undefined, condition);
    counters.push({ name: c.name, windowMs: c.windowMs, on: c.count, by: c.by, rule, weight });
  });
  return { counters, issues };
}

function refused(ast: ASTNode, none: ReadonlySet<string>): string | undefined {
  const r = checkHistoryRefs(ast, none, true);
  return 'problem' in r ? r.problem : undefined;
}

/** The values of a counter's dimensions for one action. */
export function keyOf(by: readonly CounterDim[], e: EvaluationInput): string {
  if (by.length === 0) return '';
  const values: string[] = [];
  for (const d of by) {
    switch (d) {
      case 'agent':
        values.push(e.requester.id);
        break;
      case 'target':
        values.push(e.action.target);
        break;
      case 'kind':
        values.push(e.action.kind);
        break;
      case 'owner':
        values.push(e.requester.owner ?? '');
        break;
    }
  }
  return counterKey(values);
}

/**
 * The hits an action makes: one per counter whose match and condition hold. A
 * condition that fails to evaluate counts the action (fail closed: a counter can only
 * make reviews more frequent). The weight is at least 1, so that no action goes
 * uncounted; for sql it defaults to the number of statements, so that one action
 * holding ten exports counts ten.
 */
export function tallyOf(counters: readonly CompiledCounter[], e: EvaluationInput, ctx: () => CelContext): TallyEntry[] {
  const out: TallyEntry[] = [];
  for (const c of counters) {
    if (matchFailure(c.rule, e) !== undefined) continue;
    if (c.rule.condition && testCondition(c.rule.condition, ctx()) === false) continue;
    out.push({ counter: c.name, key: keyOf(c.by, e), weight: weightOf(c, e, ctx), on: c.on });
  }
  return out;
}

function weightOf(c: CompiledCounter, e: EvaluationInput, ctx: () => CelContext): number {
  let w: unknown = 1;
  if (c.weight) {
    try {
      w = c.weight.run(ctx());
    } catch {
      w = 1;
    }
  } else if (e.action.kind === 'sql') {
    const statements = e.hints?.sql?.statements;
    w = Array.isArray(statements) ? statements.length : 1;
  }
  const n = typeof w === 'bigint' ? Number(w) : typeof w === 'number' ? w : 1;
  return Number.isFinite(n) ? Math.min(Math.max(1, Math.floor(n)), 1_000_000) : 1;
}
