import type { AuditDraft } from '../domain/audit-entry.js';
import { isAppError } from '../domain/errors.js';
import { compilePolicy } from '../domain/policy-compile.js';
import type { CompiledPolicy } from '../domain/policy-types.js';
import type { SourceIssue } from '../domain/yaml-source.js';
import { formatIssue } from '../domain/yaml-source.js';
import type { Clock } from '../ports/clock.js';
import type { Store } from '../ports/store.js';

export interface PolicyLoadResult {
  ok: boolean;
  version?: string;
  issues: SourceIssue[];
  warnings: SourceIssue[];
}

export interface PolicyService {
  /** The policy in force; undefined only before the first successful load. */
  current(): CompiledPolicy | undefined;
  /**
   * Compiles and swaps in a policy. A bad policy leaves the last good one in force.
   * Every attempt, good or bad, is recorded in the audit log.
   */
  load(text: string, file: string, trigger: string): Promise<PolicyLoadResult>;
}

export function createPolicyService(deps: {
  store: Store;
  clock: Clock;
  groupExists(name: string): boolean;
  groupSize?(name: string): number;
}): PolicyService {
  let policy: CompiledPolicy | undefined;
  return {
    current: () => policy,
    async load(text, file, trigger) {
      const ts = deps.clock.now().toISOString();
      let draft: AuditDraft;
      let result: PolicyLoadResult;
      let next: CompiledPolicy | undefined;
      try {
        const compiled = compilePolicy(text, file, { groupExists: deps.groupExists, groupSize: deps.groupSize });
        next = compiled.policy;
        result = { ok: true, version: next.version, issues: [], warnings: compiled.warnings };
        draft = {
          type: 'policy.loaded',
          ts,
          actor: { type: 'system', id: 'countersign' },
          data: { version: next.version, file, trigger, rules: next.ruleCount, previous: policy?.version ?? null },
        };
      } catch (e) {
        const issues = issuesOf(e, file);
        result = { ok: false, issues, warnings: [], ...(policy ? { version: policy.version } : {}) };
        draft = {
          type: 'policy.rejected',
          ts,
          actor: { type: 'system', id: 'countersign' },
          data: { file, trigger, errors: issues.map(formatIssue), kept: policy?.version ?? null },
        };
      }
      // The audit entry commits before the new policy decides anything.
      await deps.store.appendAudit([draft]);
      if (next) policy = next;
      return result;
    },
  };
}

function issuesOf(e: unknown, file: string): SourceIssue[] {
  if (isAppError(e)) {
    const own = (e as { issues?: unknown }).issues;
    if (Array.isArray(own)) return own as SourceIssue[];
    if (Array.isArray(e.details?.issues)) return e.details.issues as SourceIssue[];
  }
  return [{ file, path: '', message: e instanceof Error ? e.message : String(e) }];
}
