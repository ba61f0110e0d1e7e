// TEMPORARY stand-in with the agreed signature, replaced by the policy engine branch.
import type { CompiledPolicy } from './policy-types.js';
import type { SourceIssue } from './yaml-source.js';
export function compilePolicy(_text: string, _file: string, _opts: { groupExists(name: string): boolean; groupSize?(name: string): number }): { policy: CompiledPolicy; warnings: SourceIssue[] } {
  throw new Error('not merged yet');
}
