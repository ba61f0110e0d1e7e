import { ACTION_KINDS } from './action.js';
import type { ActionKind } from './action.js';
import { readDriftRows } from './drift-tolerance.js';
import { formatDuration } from './duration.js';
import { isApproverRef } from './identity.js';
import type { ApproverRef } from './identity.js';
import type { KeyPath } from './policy-reader.js';
import { SpecReader, isMapping } from './policy-reader.js';
import { DEFAULT_RULE_ID } from './policy-spec.js';
import type { MatchSpec, OutcomeSpec, PolicySpec, RuleSpec } from './policy-spec.js';
import { OUTCOMES } from './policy-types.js';
import type { Outcome, ReviewSpec } from './policy-types.js';
import type { DriftTolerance } from './sql-preview.js';
import type { SourceIssue, YamlSource } from './yaml-source.js';
import { readCounters, readGrantBounds, readRuleMode } from './policy-parse-reviews.js';

/** What the policy may know about configured groups. */
export interface GroupLookup {
  groupExists(name: string): boolean;
  /** Number of configured humans in the group; enables the quorum warning. */
  groupSize?(name: string): number;
}

const TOP_KEYS = ['default', 'rules', 'counters'] as const;
const RULE_KEYS = ['id', 'match', 'when', 'outcome', 'review', 'reason', 'mode'] as const;
const DEFAULT_KEYS = ['outcome', 'review', 'reason'] as const;
const MATCH_KEYS = ['kind', 'target', 'requester', 'labels'] as const;
const REVIEW_KEYS = ['approvers', 'quorum', 'timeout', 'escalate', 'drift', 'grants'] as const;
const DRIFT_KEYS = ['rows'] as const;
const ESCALATE_KEYS = ['after', 'to'] as const;

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const TARGET_GLOB = /^[A-Za-z0-9._*?-]+$/;

/**
 * Validates the shape of a policy document: every key known, every value well formed,
 * every group configured. CEL conditions are compiled later (policy-compile.ts).
 */
export interface PolicyRead {
  /** Set when there is no issue. */
  spec: PolicySpec | undefined;
  /** Conditions of every rule whose match and when could be read, even if the rule has other issues: all CEL errors are reported in one pass. */
  conditions: ConditionSpec[];
  issues: SourceIssue[];
  warnings: SourceIssue[];
  /** Names under `counters:` (even with issues), so that conditions naming others are refused. */
  counterNames?: string[];
}

export interface ConditionSpec {
  path: KeyPath;
  when: string;
  kinds: ActionKind[] | undefined;
  /** For messages; undefined when the rule's id is itself missing or bad. */
  ruleId?: string | undefined;
}

export function readPolicySpec(src: YamlSource, groups: GroupLookup): PolicyRead {
  const r = new SpecReader(src);
  const warnings: SourceIssue[] = [];
  const conditions: ConditionSpec[] = [];
  const top = r.mapping(src.value, [], TOP_KEYS, 'the policy');
  if (!top) return { spec: undefined, conditions, issues: r.issues, warnings };
  const counters = readCounters(r, top.counters, (raw, path) => readMatch(r, raw, path));
  const counterNames = top.counters && isMapping(top.counters) ? Object.keys(top.counters) : [];

  let def: OutcomeSpec | undefined;
  if (top.default === undefined) {
    warnings.push(src.locate([], 'no "default": actions that no rule matches are denied (fail closed); add "default:" to say so explicitly'));
  } else {
    def = readOutcome(r, top.default, ['default'], DEFAULT_KEYS, 'default', groups, warnings);
  }

  const rules: RuleSpec[] = [];
  if (top.rules !== undefined && top.rules !== null && !Array.isArray(top.rules)) r.fail(['rules'], 'rules must be a list');
  const seen = new Map<string, KeyPath>();
  (Array.isArray(top.rules) ? (top.rules as unknown[]) : []).forEach((raw, i) => {
    const path: KeyPath = ['rules', i];
    // Duplicates are found even among rules with other problems.
    const id = isMapping(raw) && typeof raw.id === 'string' ? raw.id : undefined;
    const first = id === undefined ? undefined : seen.get(id);
    if (id !== undefined && first) r.fail([...path, 'id'], `duplicate rule id "${id}" (first defined at line ${r.lineOf(first) ?? '?'})`);
    else if (id !== undefined) seen.set(id, path);
    const rule = readRule(r, raw, path, groups, warnings, conditions);
    if (rule) rules.push(rule);
  });
  return { spec: r.issues.length ? undefined : { default: def, rules, counters }, conditions, issues: r.issues, warnings, counterNames };
}

function readRule(r: SpecReader, raw: unknown, path: KeyPath, groups: GroupLookup, warnings: SourceIssue[], conditions: ConditionSpec[]): RuleSpec | undefined {
  const m = r.mapping(raw, path, RULE_KEYS, 'a rule');
  if (!m) return undefined;
  let id = r.string(m.id, [...path, 'id'], 'id');
  if (id !== undefined && !RULE_ID.test(id)) id = r.fail([...path, 'id'], `rule id "${id}" must be 1-128 letters, digits, dot, underscore, colon or dash`);
  if (id === DEFAULT_RULE_ID) id = r.fail([...path, 'id'], `"${DEFAULT_RULE_ID}" is reserved for the default outcome; choose another id`);
  const match = m.match === undefined ? {} : readMatch(r, m.match, [...path, 'match']);
  const when = m.when === undefined ? undefined : r.string(m.when, [...path, 'when'], 'when (a CEL expression)');
  if (match && when !== undefined) conditions.push({ path: [...path, 'when'], when, kinds: match.kinds, ruleId: id });
  const out = readOutcome(r, m, path, undefined, `rule ${id ?? `#${String(path[1])}`}`, groups, warnings);
  const mode = readRuleMode(r, m.mode, [...path, 'mode']);
  if (id === undefined || !match || !out || !mode || (m.when !== undefined && when === undefined)) return undefined;
  return { id, path, match, when, ...out, ...(mode === 'shadow' ? { mode } : {}) };
}

/** outcome, review and reason: shared by rules and the default. `keys` checks unknown keys (rules check their own). */
function readOutcome(
  r: SpecReader,
  raw: unknown,
  path: KeyPath,
  keys: readonly string[] | undefined,
  what: string,
  groups: GroupLookup,
  warnings: SourceIssue[],
): OutcomeSpec | undefined {
  const m = keys ? r.mapping(raw, path, keys, what) : (raw as Record<string, unknown>);
  if (!m) return undefined;
  let outcome: Outcome | undefined;
  if (m.outcome === undefined) r.fail(path, `${what} needs an outcome (${OUTCOMES.join(', ')})`);
  else if (typeof m.outcome !== 'string' || !(OUTCOMES as readonly string[]).includes(m.outcome)) {
    r.fail([...path, 'outcome'], `outcome must be one of ${OUTCOMES.join(', ')} (got ${JSON.stringify(m.outcome)})`);
  } else outcome = m.outcome as Outcome;

  const before = r.issues.length;
  let review: ReviewSpec | undefined;
  if (outcome === 'review') {
    if (m.review === undefined) r.fail(path, `${what} has outcome review but no "review" (approvers, quorum, timeout)`);
    else review = readReview(r, m.review, [...path, 'review'], groups, warnings);
  } else if (m.review !== undefined && outcome !== undefined) {
    r.fail([...path, 'review'], `"review" only applies to outcome review (this outcome is ${outcome})`);
  }
  const reason = m.reason === undefined ? undefined : r.string(m.reason, [...path, 'reason'], 'reason');
  if (outcome === undefined || r.issues.length > before) return undefined;
  return { outcome, review, reason };
}

function readMatch(r: SpecReader, raw: unknown, path: KeyPath): MatchSpec | undefined {
  const m = r.mapping(raw, path, MATCH_KEYS, 'match');
  if (!m) return undefined;
  const before = r.issues.length;
  const kinds =
    m.kind === undefined
      ? undefined
      : (r.stringOrList(m.kind, [...path, 'kind'], 'kind', (k) =>
          (ACTION_KINDS as readonly string[]).includes(k) ? undefined : `unknown kind "${k}"; expected one of: ${ACTION_KINDS.join(', ')}`,
        ) as ActionKind[] | undefined);
  const targets =
    m.target === undefined
      ? undefined
      : r.stringOrList(m.target, [...path, 'target'], 'target', (t) =>
          TARGET_GLOB.test(t) ? undefined : `target "${t}" must be a target name or glob (letters, digits, . _ - and the wildcards * ?)`,
        );
  const requesters =
    m.requester === undefined
      ? undefined
      : r.stringOrList(m.requester, [...path, 'requester'], 'requester', (s) => (/^\S+$/.test(s) ? undefined : `requester "${s}" must be an id or glob without spaces`));
  let labels: Record<string, string> | undefined;
  if (m.labels !== undefined) {
    if (!isMapping(m.labels) || Object.keys(m.labels).length === 0) r.fail([...path, 'labels'], 'labels must be a non-empty mapping of label names to string values');
    else {
      labels = {};
      for (const [k, v] of Object.entries(m.labels)) {
        if (typeof v === 'string') labels[k] = v;
        else r.fail([...path, 'labels', k], `label values are strings (got ${JSON.stringify(v)}; quote it: "${String(v)}")`);
      }
    }
  }
  if (r.issues.length > before) return undefined;
  return { kinds, targets, requesters, labels };
}

function readReview(r: SpecReader, raw: unknown, path: KeyPath, groups: GroupLookup, warnings: SourceIssue[]): ReviewSpec | undefined {
  const m = r.mapping(raw, path, REVIEW_KEYS, 'review');
  if (!m) return undefined;
  const before = r.issues.length;
  const approvers = readApprovers(r, m.approvers, [...path, 'approvers'], 'approvers', groups);
  let quorum = 1;
  if (m.quorum !== undefined) {
    if (typeof m.quorum !== 'number' || !Number.isSafeInteger(m.quorum) || m.quorum < 1) r.fail([...path, 'quorum'], `quorum must be an integer >= 1 (distinct humans); got ${JSON.stringify(m.quorum)}`);
    else quorum = m.quorum;
  }
  const timeoutMs = m.timeout === undefined ? r.fail(path, 'review needs a timeout (e.g. 15m): a review never waits forever') : r.duration(m.timeout, [...path, 'timeout'], 'timeout');
  let escalate: ReviewSpec['escalate'];
  if (m.escalate !== undefined) {
    const e = r.mapping(m.escalate, [...path, 'escalate'], ESCALATE_KEYS, 'escalate');
    if (e) {
      const afterMs = e.after === undefined ? r.fail([...path, 'escalate'], 'escalate needs "after" (a duration shorter than the timeout)') : r.duration(e.after, [...path, 'escalate', 'after'], 'escalate.after');
      const to = e.to === undefined ? r.fail([...path, 'escalate'], 'escalate needs "to" (the approvers added when it escalates)') : readApprovers(r, e.to, [...path, 'escalate', 'to'], 'escalate.to', groups);
      if (afterMs !== undefined && timeoutMs !== undefined && afterMs >= timeoutMs) {
        r.fail([...path, 'escalate', 'after'], `escalate.after (${formatDuration(afterMs)}) must be shorter than the timeout (${formatDuration(timeoutMs)})`);
      }
      if (afterMs !== undefined && to) escalate = { afterMs, to };
    }
  }
  let drift: DriftTolerance | undefined;
  if (m.drift !== undefined) {
    const d = r.mapping(m.drift, [...path, 'drift'], DRIFT_KEYS, 'drift');
    if (d && d.rows === undefined) r.fail([...path, 'drift'], 'drift needs "rows": a number of rows or a percentage such as "10%"');
    else if (d) {
      const t = readDriftRows(d.rows);
      if (typeof t === 'string') r.fail([...path, 'drift', 'rows'], t);
      else drift = t;
    }
  }
  const grants = m.grants === undefined ? undefined : readGrantBounds(r, m.grants, [...path, 'grants']);
  if (r.issues.length > before || !approvers || timeoutMs === undefined) return undefined;
  checkQuorum(r, path, quorum, [...approvers, ...(escalate?.to ?? [])], groups, warnings);
  const spec: ReviewSpec = escalate ? { approvers, quorum, timeoutMs, escalate } : { approvers, quorum, timeoutMs };
  if (drift) spec.drift = drift;
  if (grants) spec.grants = grants;
  return spec;
}

function readApprovers(r: SpecReader, raw: unknown, path: KeyPath, what: string, groups: GroupLookup): ApproverRef[] | undefined {
  return r.list(raw, path, what, (ref) => {
    if (!isApproverRef(ref)) return `approver "${ref}" must be group:NAME or user:EMAIL`;
    if (ref.startsWith('group:') && !groups.groupExists(ref.slice(6))) return `unknown group "${ref.slice(6)}" (groups come from the config: humans[].groups and groups)`;
    return undefined;
  }) as ApproverRef[] | undefined;
}

/** A quorum no one can meet is an error when every approver is named; with groups it depends on config, so it warns. */
function checkQuorum(r: SpecReader, path: KeyPath, quorum: number, refs: readonly ApproverRef[], groups: GroupLookup, warnings: SourceIssue[]): void {
  const users = new Set(refs.filter((x) => x.startsWith('user:')).map((x) => x.toLowerCase()));
  const groupNames = [...new Set(refs.filter((x) => x.startsWith('group:')).map((x) => x.slice(6)))];
  if (groupNames.length === 0 && quorum > users.size) {
    r.fail([...path, 'quorum'], `quorum ${quorum} can never be met: only ${users.size} user(s) may approve`);
    return;
  }
  if (!groups.groupSize) return;
  const sizes = groupNames.map((g) => [g, groups.groupSize!(g)] as const);
  const eligible = users.size + sizes.reduce((n, [, s]) => n + s, 0);
  if (quorum > eligible) {
    const detail = sizes.map(([g, s]) => `group:${g} has ${s}`).join(', ');
    warnings.push(r.src.locate([...path, 'quorum'], `quorum ${quorum} exceeds the ${eligible} configured human(s) who may approve (${detail}${users.size ? `, plus ${users.size} user(s)` : ''})`));
  }
}
