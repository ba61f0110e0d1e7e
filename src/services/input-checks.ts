import type { ActionKind, ActionRequest } from '../domain/action.js';
import { AppError } from '../domain/errors.js';
import type { TargetInfo } from '../domain/target-catalog.js';
import type { InputCheck } from './submit-service.js';

/**
 * Per-kind input checks, run at submission so that an unsafe or malformed action
 * is refused before any human is asked to review it. Exhaustive over kinds.
 */
export function createInputCheck(checks: Record<ActionKind, InputCheck>, executable: ReadonlySet<ActionKind>): InputCheck {
  return (request: ActionRequest, target: TargetInfo, session) => {
    // The input first: bad input is reported as such whatever the mode.
    const hints = checks[request.kind](request, target, session);
    if ((request.mode ?? 'execute') === 'execute' && !executable.has(request.kind)) {
      throw new AppError('VALIDATION_FAILED', `mode: actions of kind ${request.kind} can only be decided (mode: decide); the agent runs them after approval`);
    }
    return hints;
  };
}
