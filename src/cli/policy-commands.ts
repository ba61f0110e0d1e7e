import type { Command } from 'commander';
import { ACTION_KINDS } from '../domain/action.js';
import { requirementText } from '../domain/policy-decision.js';
import type { Decision, EvaluationHints, EvaluationInput, PolicyTrace, RuleTrace } from '../domain/policy-types.js';
import { formatIssue } from '../domain/yaml-source.js';
import type { SourceIssue } from '../domain/yaml-source.js';
import { CliExit, EXIT } from './cli-runtime.js';
import { readCases } from './policy-cases.js';
import type { PolicyCase } from './policy-cases.js';
import { buildInput, compileOrExit, loadConfigForPolicy, readText, sqlParserFor } from './policy-inputs.js';

const print = (line = ''): void => void process.stdout.write(`${line}\n`);
const warn = (line: string): void => void process.stderr.write(`${line}\n`);

export function registerPolicyCommands(program: Command): void {
  const policy = program.command('policy').description('Check, test and explain a policy file');

  policy
    .command('check')
    .description('Validate a policy: exit 0 when valid (warnings are printed), 1 with every problem as file:line:col')
    .argument('<file>', 'policy file (YAML)')
    .option('--config <file>', 'config file: group names are checked against its humans and groups')
    .action((file: string, opts: { config?: string }) => check(file, opts));

  policy
    .command('test')
    .description('Run test cases against a policy: exit 0 when all pass, 1 on any miss')
    .argument('<file>', 'policy file (YAML)')
    .argument('<cases>', 'cases file (YAML)')
    .option('--config <file>', 'config file: groups, requester labels and owners, target hosts and labels')
    .action((file: string, casesFile: string, opts: { config?: string }) => test(file, casesFile, opts));

  policy
    .command('explain')
    .description('Show the decision for one action and, rule by rule, why')
    .argument('<file>', 'policy file (YAML)')
    .argument('<action>', 'action file (JSON: kind, target, input, ...; optional hints)')
    .option('--requester <id>', 'the requesting agent or human')
    .option('--config <file>', 'config file: groups, requester labels and owners, target hosts and labels')
    .option('--json', 'print the decision and trace as JSON')
    .action((file: string, actionFile: string, opts: { requester?: string; config?: string; json?: boolean }) => explainCommand(file, actionFile, opts));
}

function check(file: string, opts: { config?: string }): void {
  const config = loadConfigForPolicy(opts.config);
  const { policy, warnings } = compileOrExit(file, config);
  printWarnings(warnings);
  if (!config) warn('note: group names were not checked; pass --config to check them against the configured humans and groups');
  print(`OK ${file}: ${policy.ruleCount} rule${policy.ruleCount === 1 ? '' : 's'}, version ${policy.version}`);
}

async function test(file: string, casesFile: string, opts: { config?: string }): Promise<void> {
  const config = loadConfigForPolicy(opts.config);
  const { policy, warnings } = compileOrExit(file, config);
  printWarnings(warnings);
  const { cases, issues } = readCases(readText(casesFile, 'cases file'), casesFile);
  const sqlParser = await sqlParserFor(cases.map((c) => c.action.kind));
  // Inputs are built before any case runs: a case naming an unknown requester is a bad file, not a failed case.
  const inputs = cases.map((c) => {
    try {
      return buildInput(c.action, c.requester, config, { target: c.target, hints: c.hints, sqlParser });
    } catch (e) {
      issues.push({ file: casesFile, line: c.line, path: `case "${c.name}"`, message: (e as Error).message });
      return undefined;
    }
  });
  if (issues.length) {
    issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new CliExit(EXIT.USAGE, `${issues.map(formatIssue).join('\n')}\n${casesFile}: invalid cases file`);
  }

  let failed = 0;
  cases.forEach((c, i) => {
    const decision = policy.evaluate(inputs[i]!);
    const misses = compare(c, decision);
    if (misses.length === 0) {
      print(`PASS ${c.name}`);
      return;
    }
    failed++;
    print(`FAIL ${c.name} (${casesFile}:${c.line ?? '?'})`);
    for (const m of misses) print(`       ${m}`);
    print(`       reason: ${decision.reason}`);
  });
  print();
  print(`${cases.length - failed} passed, ${failed} failed (${cases.length} case${cases.length === 1 ? '' : 's'}, policy ${policy.version})`);
  if (failed) throw new CliExit(EXIT.FAILURE, '');
}

/** What differs from the expectation; rule lists compare as sets. */
function compare(c: PolicyCase, d: Decision): string[] {
  const misses: string[] = [];
  if (d.outcome !== c.expect.outcome) misses.push(`outcome: expected ${c.expect.outcome}, got ${d.outcome}`);
  const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');
  if (c.expect.rules && !sameSet(c.expect.rules, d.rules)) misses.push(`rules: expected [${c.expect.rules.join(', ')}], got [${d.rules.join(', ')}]`);
  const reqs = d.requirements.map((r) => r.ruleId);
  if (c.expect.requirements && !sameSet(c.expect.requirements, reqs)) misses.push(`requirements: expected [${c.expect.requirements.join(', ')}], got [${reqs.join(', ')}]`);
  return misses;
}

async function explainCommand(file: string, actionFile: string, opts: { requester?: string; config?: string; json?: boolean }): Promise<void> {
  const config = loadConfigForPolicy(opts.config);
  const { policy, warnings } = compileOrExit(file, config);
  const { action, hints } = readAction(actionFile);
  let input: EvaluationInput;
  try {
    input = buildInput(action, opts.requester, config, { hints, sqlParser: await sqlParserFor([action.kind]) });
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `${actionFile}: ${(e as Error).message}`);
  }
  const trace = policy.explain(input);
  if (opts.json) {
    const sql = input.hints?.sql ? { sql: input.hints.sql } : {};
    print(JSON.stringify({ policyVersion: policy.version, input: { requester: input.requester, target: input.target, ...sql }, ...trace }, null, 2));
    return;
  }
  printWarnings(warnings);
  if (opts.requester === undefined) warn('note: no --requester: the requester is an agent with an empty id and no labels');
  printTrace(trace);
  // What the rules saw: the parser's facts, as the gateway computes them.
  if (input.hints?.sql) print(`sql facts: ${JSON.stringify(input.hints.sql)}`);
}

function readAction(file: string): { action: EvaluationInput['action']; hints: EvaluationHints | undefined } {
  let raw: unknown;
  try {
    raw = JSON.parse(readText(file, 'action file'));
  } catch (e) {
    if (e instanceof CliExit) throw e;
    throw new CliExit(EXIT.USAGE, `${file}: invalid JSON: ${(e as Error).message}`);
  }
  const bad = (m: string) => new CliExit(EXIT.USAGE, `${file}: ${m}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('expected a JSON object with kind, target and input');
  const a = raw as Record<string, unknown>;
  const allowed = ['kind', 'target', 'input', 'justification', 'context', 'onBehalfOf', 'mode', 'hints'];
  const unknown = Object.keys(a).filter((k) => !allowed.includes(k));
  if (unknown.length) throw bad(`unknown key "${unknown[0]}"; expected one of: ${allowed.join(', ')}`);
  if (typeof a.kind !== 'string' || !(ACTION_KINDS as readonly string[]).includes(a.kind)) throw bad(`kind must be one of ${ACTION_KINDS.join(', ')}`);
  if (typeof a.target !== 'string' || a.target === '') throw bad('target must be a non-empty string');
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(a.input)) throw bad('input must be an object');
  if (a.context !== undefined && !isObj(a.context)) throw bad('context must be an object');
  if (a.hints !== undefined && !(isObj(a.hints) && (a.hints.annotations === undefined || isObj(a.hints.annotations)))) throw bad('hints must be an object like {"annotations": {...}}');
  const str = (k: string) => (typeof a[k] === 'string' ? a[k] : undefined);
  return {
    action: { kind: a.kind, target: a.target, input: a.input, justification: str('justification'), context: a.context, onBehalfOf: str('onBehalfOf'), mode: str('mode') ?? 'execute' },
    hints: a.hints,
  };
}

function printTrace(t: PolicyTrace): void {
  const d = t.decision;
  print(`decision: ${d.outcome}`);
  print(`reason:   ${d.reason}`);
  print(`fired:    ${d.rules.join(', ')}`);
  print(`policy:   ${d.policyVersion}`);
  if (d.requirements.length) {
    print('requirements (all must be met):');
    for (const r of d.requirements) print(`  ${r.ruleId}: ${requirementText(r)}`);
  }
  print();
  print('rules:');
  for (const r of t.rules) print(`  ${ruleLine(r)}`);
}

function ruleLine(r: RuleTrace): string {
  const head = `${r.fired ? '*' : '-'} ${r.ruleId} (${r.outcome}${r.line !== undefined ? `, line ${r.line}` : ''}): `;
  if (!r.match.held) return `${head}no match (${r.match.failed})`;
  let s = `${head}match held`;
  if (r.condition && 'error' in r.condition) s += `; when errored: ${r.condition.error}${r.fired ? ' (fails closed: fires)' : ' (fails closed: an allow rule does not fire)'}`;
  else if (r.condition) s += `; when = ${JSON.stringify(r.condition.value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}`;
  else s += '; no condition';
  s += r.fired ? ' -> FIRED' : ' -> not fired';
  if (r.fired && r.requirement) s += `; requires ${requirementText(r.requirement)}`;
  return s;
}

function printWarnings(warnings: readonly SourceIssue[]): void {
  for (const w of warnings) warn(`warning: ${formatIssue(w)}`);
}
