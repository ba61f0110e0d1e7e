import { ACTION_KINDS } from '../domain/action.js';
import { SpecReader, isMapping } from '../domain/policy-reader.js';
import type { KeyPath } from '../domain/policy-reader.js';
import { OUTCOMES } from '../domain/policy-types.js';
import type { EvaluationHints, EvaluationInput, Outcome } from '../domain/policy-types.js';
import { parseYamlSource } from '../domain/yaml-source.js';
import type { SourceIssue } from '../domain/yaml-source.js';

/** One `policy test` case, as written. */
export interface PolicyCase {
  name: string;
  line: number | undefined;
  action: EvaluationInput['action'];
  requester: string | { id: string; type: 'agent' | 'human'; owner?: string | undefined; labels?: Record<string, string> | undefined };
  /** Target facts to use instead of (or without) the config's. */
  target?: { host?: string | undefined; labels?: Record<string, string> | undefined } | undefined;
  hints?: EvaluationHints | undefined;
  expect: { outcome: Outcome; rules?: string[] | undefined; requirements?: string[] | undefined };
}

const CASE_KEYS = ['name', 'action', 'requester', 'target', 'hints', 'expect'] as const;
const ACTION_KEYS = ['kind', 'target', 'input', 'justification', 'context', 'onBehalfOf', 'mode'] as const;
const REQUESTER_KEYS = ['id', 'type', 'owner', 'labels'] as const;
const TARGET_KEYS = ['host', 'labels'] as const;
const EXPECT_KEYS = ['outcome', 'rules', 'requirements'] as const;

/** Reads a cases file, reporting every problem with its line (no case runs if any is bad). */
export function readCases(text: string, file: string): { cases: PolicyCase[]; issues: SourceIssue[] } {
  const src = parseYamlSource(text, file);
  if (src.errors.length) return { cases: [], issues: src.errors };
  const r = new SpecReader(src);
  const top = r.mapping(src.value, [], ['cases'], 'the cases file');
  const cases: PolicyCase[] = [];
  if (top && (!Array.isArray(top.cases) || top.cases.length === 0)) r.fail(['cases'], 'cases must be a non-empty list');
  else if (top) (top.cases as unknown[]).forEach((raw, i) => {
    const c = readCase(r, raw, ['cases', i]);
    if (c) cases.push(c);
  });
  return { cases, issues: r.issues };
}

function readCase(r: SpecReader, raw: unknown, path: KeyPath): PolicyCase | undefined {
  const m = r.mapping(raw, path, CASE_KEYS, 'a case');
  if (!m) return undefined;
  const before = r.issues.length;
  const name = r.string(m.name, [...path, 'name'], 'name');
  const action = readAction(r, m.action, [...path, 'action']);
  const requester = readRequester(r, m.requester, [...path, 'requester']);
  let target: PolicyCase['target'];
  if (m.target !== undefined) {
    const t = r.mapping(m.target, [...path, 'target'], TARGET_KEYS, 'target (facts: host, labels)');
    if (t) target = { host: t.host === undefined ? undefined : r.string(t.host, [...path, 'target', 'host'], 'host'), labels: readLabels(r, t.labels, [...path, 'target', 'labels']) };
  }
  let hints: EvaluationHints | undefined;
  if (m.hints !== undefined) {
    const h = r.mapping(m.hints, [...path, 'hints'], ['annotations'], 'hints');
    if (h && h.annotations !== undefined && !isMapping(h.annotations)) r.fail([...path, 'hints', 'annotations'], 'annotations must be a mapping');
    else if (h) hints = { annotations: h.annotations as Record<string, unknown> | undefined };
  }
  const expect = readExpect(r, m.expect, [...path, 'expect']);
  if (r.issues.length > before || !name || !action || !requester || !expect) return undefined;
  return { name, line: r.lineOf(path), action, requester, target, hints, expect };
}

function readAction(r: SpecReader, raw: unknown, path: KeyPath): EvaluationInput['action'] | undefined {
  const a = r.mapping(raw, path, ACTION_KEYS, 'action');
  if (!a) return undefined;
  const kind = r.string(a.kind, [...path, 'kind'], 'kind');
  if (kind !== undefined && !(ACTION_KINDS as readonly string[]).includes(kind)) r.fail([...path, 'kind'], `unknown kind "${kind}"; expected one of: ${ACTION_KINDS.join(', ')}`);
  const target = r.string(a.target, [...path, 'target'], 'target');
  if (!isMapping(a.input)) r.fail([...path, 'input'], 'input must be a mapping');
  const optional = (k: 'justification' | 'onBehalfOf' | 'mode') => (a[k] === undefined ? undefined : r.string(a[k], [...path, k], k));
  if (a.context !== undefined && !isMapping(a.context)) r.fail([...path, 'context'], 'context must be a mapping');
  if (kind === undefined || target === undefined || !isMapping(a.input)) return undefined;
  return {
    kind,
    target,
    input: a.input,
    justification: optional('justification'),
    context: a.context as Record<string, unknown> | undefined,
    onBehalfOf: optional('onBehalfOf'),
    mode: optional('mode') ?? 'execute',
  };
}

function readRequester(r: SpecReader, raw: unknown, path: KeyPath): PolicyCase['requester'] | undefined {
  if (typeof raw === 'string') return r.string(raw, path, 'requester');
  const m = r.mapping(raw, path, REQUESTER_KEYS, 'requester (an id, or id, type, owner, labels)');
  if (!m) return undefined;
  const id = r.string(m.id, [...path, 'id'], 'id');
  const type = m.type ?? 'agent';
  if (type !== 'agent' && type !== 'human') r.fail([...path, 'type'], 'type must be agent or human');
  const owner = m.owner === undefined ? undefined : r.string(m.owner, [...path, 'owner'], 'owner');
  const labels = readLabels(r, m.labels, [...path, 'labels']);
  if (id === undefined || (type !== 'agent' && type !== 'human')) return undefined;
  return { id, type, owner, labels };
}

function readLabels(r: SpecReader, raw: unknown, path: KeyPath): Record<string, string> | undefined {
  if (raw === undefined) return undefined;
  if (!isMapping(raw)) return r.fail(path, 'labels must be a mapping of strings');
  for (const [k, v] of Object.entries(raw)) if (typeof v !== 'string') r.fail([...path, k], 'label values are strings');
  return raw as Record<string, string>;
}

function readExpect(r: SpecReader, raw: unknown, path: KeyPath): PolicyCase['expect'] | undefined {
  const m = r.mapping(raw, path, EXPECT_KEYS, 'expect');
  if (!m) return undefined;
  if (typeof m.outcome !== 'string' || !(OUTCOMES as readonly string[]).includes(m.outcome)) {
    return r.fail([...path, 'outcome'], `expect.outcome must be one of ${OUTCOMES.join(', ')}`);
  }
  // An empty list is a real expectation here ("no requirements").
  const ids = (k: 'rules' | 'requirements') => (m[k] === undefined ? undefined : Array.isArray(m[k]) && m[k].length === 0 ? [] : r.list(m[k], [...path, k], k, () => undefined));
  return { outcome: m.outcome as Outcome, rules: ids('rules'), requirements: ids('requirements') };
}
