import type { ActionKind, ActionRequest } from '../domain/action.js';
import { AppError } from '../domain/errors.js';
import { checkHttpAction } from '../domain/http-request-check.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { InputCheck } from './submit-service.js';

const TOOL_NAME = /^[\x21-\x7e]{1,256}$/;

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `{tool, <payload>}` and nothing else: a tool name of 1-256 printable ASCII characters
 * and, optionally, an object payload. Unknown keys are refused, so that nothing rides
 * along outside what policy and reviewers see.
 */
function toolShape(payload: 'arguments' | 'input'): InputCheck {
  return (r: ActionRequest) => {
    for (const k of Object.keys(r.input)) {
      if (k !== 'tool' && k !== payload) throw new AppError('VALIDATION_FAILED', `input.${k}: unknown key (an ${r.kind} input has only tool and ${payload})`);
    }
    if (typeof r.input.tool !== 'string' || !TOOL_NAME.test(r.input.tool)) {
      throw new AppError('VALIDATION_FAILED', 'input.tool: a tool name of 1-256 printable ASCII characters is required');
    }
    if (r.input[payload] !== undefined && !isMapping(r.input[payload])) throw new AppError('VALIDATION_FAILED', `input.${payload}: must be an object`);
  };
}

/** Input checks per kind: exhaustive, so a new kind without a check does not compile. */
export const kindChecks: Record<ActionKind, InputCheck> = {
  http: (r: ActionRequest, t: TargetInfo) => {
    checkHttpAction(t.baseUrl ?? '', r.input);
  },
  mcp: toolShape('arguments'),
  tool: toolShape('input'),
};
