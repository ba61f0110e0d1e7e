import { readFileSync } from 'node:fs';
import { configGroups, requesterFacts, targetFacts } from '../config/config-facts.js';
import { loadConfigWithoutSecrets } from '../config/load.js';
import type { LoadedConfig } from '../config/load.js';
import { isAppError } from '../domain/errors.js';
import { PolicyError, compilePolicy } from '../domain/policy-compile.js';
import type { GroupLookup } from '../domain/policy-compile.js';
import type { CompiledPolicy, EvaluationHints, EvaluationInput } from '../domain/policy-types.js';
import { DEFAULT_EXPORT_ROWS } from '../domain/sql-facts.js';
import type { SqlFacts } from '../domain/sql-facts.js';
import type { CommandFacts } from '../domain/command-facts.js';
import { checkCommandInput } from '../domain/command-input.js';
import { commandTargetInfo } from '../config/command-target-info.js';
import { checkSqlInputShape, checkSqlParsed } from '../domain/sql-input.js';
import { formatIssue } from '../domain/yaml-source.js';
import type { SourceIssue } from '../domain/yaml-source.js';
import type { SqlParser } from '../ports/sql-parser.js';
import { CliExit, EXIT } from './cli-runtime.js';
import type { PolicyCase } from './policy-cases.js';

export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new CliExit(EXIT.USAGE, `${file}: cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * The config, for groups, labels and hosts. Policy commands never need secrets, so an
 * unset `${ENV}` reference gets a placeholder instead of failing (CI rarely has them).
 */
export function loadConfigForPolicy(file: string | undefined): LoadedConfig | undefined {
  if (file === undefined) return undefined;
  try {
    return loadConfigWithoutSecrets(file);
  } catch (e) {
    if (isAppError(e)) throw new CliExit(EXIT.USAGE, e.message);
    throw e;
  }
}

export function groupsFor(config: LoadedConfig | undefined): GroupLookup {
  return config ? configGroups(config.config) : { groupExists: () => true };
}

/** Compiles or ends the command with every issue as `file:line:col: message` (exit 1). */
export function compileOrExit(file: string, config: LoadedConfig | undefined): { policy: CompiledPolicy; warnings: SourceIssue[] } {
  const text = readText(file, 'policy');
  try {
    return compilePolicy(text, file, groupsFor(config));
  } catch (e) {
    if (e instanceof PolicyError) {
      throw new CliExit(EXIT.FAILURE, `${e.issues.map(formatIssue).join('\n')}\n${file}: ${e.issues.length} problem${e.issues.length === 1 ? '' : 's'}; the policy is invalid`);
    }
    throw e;
  }
}

type RequesterSpec = PolicyCase['requester'];

/**
 * The evaluation input for an action: requester and target facts from the config
 * when there is one; explicit facts (a requester object, a case's `target`) win. No
 * requester at all stands for an agent with an empty id and no labels.
 */
export function buildInput(
  action: EvaluationInput['action'],
  requester: RequesterSpec | undefined,
  config: LoadedConfig | undefined,
  overrides: { target?: PolicyCase['target']; hints?: EvaluationHints | undefined; sqlParser?: SqlParser | undefined } = {},
): EvaluationInput {
  let req: EvaluationInput['requester'];
  if (requester === undefined) {
    req = { id: '', type: 'agent', labels: {} };
  } else if (typeof requester === 'string') {
    const known = config ? requesterFacts(config.config, requester) : undefined;
    if (config && !known) throw new Error(`requester "${requester}" is not a configured agent or human`);
    req = known ?? { id: requester, type: 'agent', labels: {} };
  } else {
    req = { id: requester.id, type: requester.type, owner: requester.owner, labels: requester.labels ?? {} };
  }
  let target = config ? targetFacts(config.config, action.target) : undefined;
  if (config && !target && !overrides.target) throw new Error(`target "${action.target}" is not configured`);
  target ??= { name: action.target, kind: action.kind, labels: {} };
  if (overrides.target?.host !== undefined) target = { ...target, host: overrides.target.host };
  if (overrides.target?.labels) target = { ...target, labels: overrides.target.labels };
  const command = action.kind === 'command' ? commandFacts(action, config) : undefined;
  const hints = action.kind === 'sql' ? { ...overrides.hints, sql: sqlFacts(action, config, overrides.sqlParser) } : command ? { ...overrides.hints, command } : overrides.hints;
  return { action, requester: req, target, hints };
}

/**
 * A command's facts as the gateway computes them, with the presets of the configured
 * target (an input the gateway would refuse is an error here too); without a config,
 * undefined: policy reads the argv with the preset named like the program.
 */
function commandFacts(action: EvaluationInput['action'], config: LoadedConfig | undefined): CommandFacts | undefined {
  const t = config && Object.hasOwn(config.config.targets, action.target) ? config.config.targets[action.target] : undefined;
  if (t?.kind !== 'command') return undefined;
  try {
    return checkCommandInput(action.input, commandTargetInfo(t)).facts;
  } catch (e) {
    if (isAppError(e)) throw new Error(`${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * A sql action's facts as the gateway computes them: the same parser, the same checks
 * (a statement the gateway would refuse is an error here too), the target's exportRows.
 */
function sqlFacts(action: EvaluationInput['action'], config: LoadedConfig | undefined, parser: SqlParser | undefined): SqlFacts {
  if (!parser) throw new Error('the SQL parser is not loaded');
  const t = config && Object.hasOwn(config.config.targets, action.target) ? config.config.targets[action.target] : undefined;
  const exportRows = t?.kind === 'postgres' ? t.limits.exportRows : DEFAULT_EXPORT_ROWS;
  try {
    const input = checkSqlInputShape(action.input);
    return checkSqlParsed(input, parser.parse(input.statement), { exportRows }).facts;
  } catch (e) {
    if (isAppError(e)) throw new Error(`${e.code}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** PostgreSQL's parser, loaded (module and WASM) only when some action is of kind sql: other commands start as fast as before. */
export async function sqlParserFor(kinds: readonly string[]): Promise<SqlParser | undefined> {
  if (!kinds.includes('sql')) return undefined;
  const { createPgQueryParser } = await import('../adapters/sql/pg-query-parser.js');
  return createPgQueryParser();
}
