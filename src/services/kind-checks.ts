import type { ActionKind, ActionRequest } from '../domain/action.js';
import { AppError } from '../domain/errors.js';
import { checkHttpAction } from '../domain/http-request-check.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { InputCheck } from './submit-service.js';

const TOOL_NAME = /^[\x21-\x7e]{1,256}$/;
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const DIRECTORY = /^[^\u0000-\u001f\u007f]{1,4096}$/;

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
    if (r.input.cwd !== undefined && (typeof r.input.cwd !== 'string' || !DIRECTORY.test(r.input.cwd))) {
      throw new AppError('VALIDATION_FAILED', 'input.cwd: a directory of 1-4096 characters without control characters is required');
    }
  };
}

/** Input checks per kind: exhaustive, so a new kind without a check does not compile. */
export const kindChecks: Record<ActionKind, InputCheck> = {
  http: (r: ActionRequest, t: TargetInfo) => {
    checkHttpAction(t.baseUrl ?? '', r.input);
  },
  mcp: toolShape('arguments'),
  tool: toolShape('input', ['cwd']),
};
