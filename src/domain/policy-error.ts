import { AppError } from './errors.js';
import { formatIssue } from './yaml-source.js';
import type { SourceIssue } from './yaml-source.js';

/** A policy that cannot be loaded, with every problem found and where. */
export class PolicyError extends AppError {
  readonly issues: SourceIssue[];
  constructor(issues: SourceIssue[]) {
    super('POLICY_INVALID', `invalid policy:\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`, { issues });
    this.name = 'PolicyError';
    this.issues = issues;
  }
}
