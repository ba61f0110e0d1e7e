import type { ActionKind, ActionRequest } from '../domain/action.js';
import { AppError } from '../domain/errors.js';
import { checkHttpAction } from '../domain/http-request-check.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { InputCheck } from './submit-service.js';

function toolShape(r: ActionRequest): void {
  if (typeof r.input.tool !== 'string' || r.input.tool.length === 0) throw new AppError('VALIDATION_FAILED', 'input.tool: a tool name is required');
}

/** Input checks per kind: exhaustive, so a new kind without a check does not compile. */
export const kindChecks: Record<ActionKind, InputCheck> = {
  http: (r: ActionRequest, t: TargetInfo) => {
    checkHttpAction(t.baseUrl ?? '', r.input);
  },
  mcp: toolShape,
  tool: toolShape,
};
