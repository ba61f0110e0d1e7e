import type { TargetKind } from './action.js';
import type { CommandTargetInfo } from './command-input.js';
import type { TargetFacts } from './policy-types.js';
import type { SqlMaskRule } from './sql-mask.js';

/** What the gateway knows about a target, without its secrets. */
export interface TargetInfo {
  name: string;
  kind: TargetKind;
  facts: TargetFacts;
  /** Kind-specific settings the submit path needs to check an input (e.g. the http base URL). */
  baseUrl?: string;
  /** For `postgres` targets: a SELECT returning more rows than this (no LIMIT, or a larger one) is an export. */
  exportRows?: number;
  /** For `postgres` targets: every param is masked in the audit log. */
  maskParams?: boolean;
  /** For `postgres` targets: the masked columns; params of an input over their tables are masked in the audit log. */
  maskRules?: readonly SqlMaskRule[];
  /** For `command` targets: the programs' presets and the input limits. */
  command?: CommandTargetInfo;
}

export interface TargetCatalog {
  get(name: string): TargetInfo | undefined;
  names(): string[];
}

export function buildTargetCatalog(targets: readonly TargetInfo[]): TargetCatalog {
  const m = new Map(targets.map((t) => [t.name, t]));
  return { get: (n) => m.get(n), names: () => [...m.keys()] };
}
