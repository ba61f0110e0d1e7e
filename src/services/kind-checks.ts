import type { ActionKind, ActionRequest } from '../domain/action.js';
import { AppError } from '../domain/errors.js';
import { checkHttpAction } from '../domain/http-request-check.js';
import { checkSqlInputShape } from '../domain/sql-input.js';
import { checkCommandInput } from '../domain/command-input.js';
import { DEFAULT_EXPORT_ROWS } from '../domain/sql-facts.js';
import type { SqlParser } from '../ports/sql-parser.js';
import { hasUnsafeLineChars } from '../domain/visible-text.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { InputCheck, InputSession } from './submit-service.js';
import { createSqlAnalysisCache } from './sql-analysis-cache.js';

const TOOL_NAME = /^[\x21-\x7e]{1,256}$/;
/** An absolute POSIX or Windows path. */
const ABSOLUTE = /^(?:\/|[A-Za-z]:[\\/])/;

/**
 * Why a reported working directory is refused, or undefined: absolute, at most 1,024
 * characters, without `.`/`..` segments (so that a prefix rule such as
 * `tool.cwd.startsWith("/srv/")` means what it says) and without characters that
 * would hide or reorder what reviewers see.
 */
function directoryProblem(cwd: unknown): string | undefined {
  if (typeof cwd !== 'string' || cwd.length === 0 || cwd.length > 1024) return 'a directory of 1-1024 characters is required';
  if (!ABSOLUTE.test(cwd)) return 'the directory must be an absolute path';
  if (cwd.split(/[\\/]/).some((seg) => seg === '.' || seg === '..')) return 'the directory must not hold . or .. segments';
  if (hasUnsafeLineChars(cwd)) return 'the directory holds a control, separator or bidirectional character';
  return undefined;
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `{tool, <payload>}` (and, for a tool, the working directory it runs in) and nothing
 * else: a tool name of 1-256 printable ASCII characters and, optionally, an object
 * payload. Unknown keys are refused, so that nothing rides along outside what policy
 * and reviewers see.
 */
function toolShape(payload: 'arguments' | 'input', extra: readonly string[] = []): InputCheck {
  const keys = new Set(['tool', payload, ...extra]);
  const known = [...keys].join(', ');
  return (r: ActionRequest) => {
    for (const k of Object.keys(r.input)) {
      if (!keys.has(k)) throw new AppError('VALIDATION_FAILED', `input.${k}: unknown key (an ${r.kind} input has only the keys ${known})`);
    }
    if (typeof r.input.tool !== 'string' || !TOOL_NAME.test(r.input.tool)) {
      throw new AppError('VALIDATION_FAILED', 'input.tool: a tool name of 1-256 printable ASCII characters is required');
    }
    if (r.input[payload] !== undefined && !isMapping(r.input[payload])) throw new AppError('VALIDATION_FAILED', `input.${payload}: must be an object`);
    const cwd = r.input.cwd === undefined ? undefined : directoryProblem(r.input.cwd);
    if (cwd) throw new AppError('VALIDATION_FAILED', `input.cwd: ${cwd}`);
  };
}

/**
 * A `sql` input is parsed here, once per submission, by PostgreSQL's parser: what it
 * rejects is refused, and the facts of what it accepts go to policy as hints.
 */
function sqlCheck(parser: SqlParser | undefined): InputCheck {
  const checkSqlParsed = createSqlAnalysisCache();
  return (r: ActionRequest, t: TargetInfo, session?: InputSession) => {
    const input = checkSqlInputShape(r.input);
    // Fail closed: a gateway without the parser cannot know what a statement does.
    if (!parser) throw new AppError('INTERNAL', 'the SQL parser is not loaded');
    const { facts } = checkSqlParsed(input, parser.parse(input.statement), {
      exportRows: t.exportRows ?? DEFAULT_EXPORT_ROWS,
      ...(session?.searchPath ? { searchPath: session.searchPath } : {}),
    });
    return { sql: facts };
  };
}

/** A `command` input: its shape and sizes, its program in the target's list, its parse by the program's preset. */
const commandCheck: InputCheck = (r: ActionRequest, t: TargetInfo) => {
  // Fail closed: a command target always carries its programs.
  if (!t.command) throw new AppError('INTERNAL', `target ${t.name} has no programs`);
  return { command: checkCommandInput(r.input, t.command).facts };
};

/** Input checks per kind: exhaustive, so a new kind without a check does not compile. */
export function createKindChecks(deps: { sqlParser?: SqlParser | undefined } = {}): Record<ActionKind, InputCheck> {
  return {
    http: (r: ActionRequest, t: TargetInfo) => {
      checkHttpAction(t.baseUrl ?? '', r.input, t.facts.contentType);
    },
    mcp: toolShape('arguments'),
    tool: toolShape('input', ['cwd']),
    sql: sqlCheck(deps.sqlParser),
    command: commandCheck,
  };
}
