import type { ActionRecord } from '../../domain/action-record.js';
import type { ExecutorResult } from '../../domain/execution-failure.js';
import { executionFailure } from '../../domain/execution-failure.js';
import type { Redactor } from '../../domain/redact-secrets.js';
import type { Executor } from '../../ports/executor.js';
import type { Previewer } from '../../ports/previewer.js';
import type { CommandJob } from './command-execute.js';
import { executeCommand } from './command-execute.js';
import { computePreview } from './command-preview-run.js';
import type { CommandTargetSettings } from './command-settings.js';

export function jobOf(a: ActionRecord): CommandJob {
  return { kind: a.kind, target: a.target, input: a.input, requesterId: a.requester.id, fingerprint: a.fingerprint, preview: a.preview };
}

/** Runs command targets in this process (`runner: local`, or on a runner for the targets it serves). */
export function createLocalCommandTargets(targets: ReadonlyMap<string, CommandTargetSettings>, redactor: Redactor, ranOn = 'local'): { executor: Executor; previewer: Previewer } {
  return {
    executor: {
      async execute(action, signal): Promise<ExecutorResult> {
        const t = targets.get(action.target);
        if (!t) return executionFailure('TARGET_NOT_FOUND', `no command target ${action.target} here`);
        if (action.status !== 'running') return executionFailure('NOT_RUNNING', `the action is ${action.status}; only a running action is executed`);
        return executeCommand(t, redactor, jobOf(action), ranOn, signal);
      },
    },
    previewer: {
      async preview(action) {
        const t = targets.get(action.target);
        if (!t) return undefined;
        return computePreview(t, redactor, action.input);
      },
    },
  };
}
