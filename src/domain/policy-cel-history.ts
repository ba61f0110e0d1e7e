import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import type { HistoryView } from './history-types.js';

/*
 * The CEL variables about history: `counters` (map of counter name to int), `history`
 * (`history.firstTime(agent)`, `history.firstTime(agent, target)`) and `now`
 * (`now.hour(tz)`, `now.minute(tz)`, `now.weekday(tz)`, with 0 = Sunday). Kept apart
 * from policy-cel.ts so that the kind facts there can evolve on their own.
 */

export const HISTORY_VARIABLES = ['counters', 'history', 'now'] as const;

/** `now` in conditions. */
export class NowValue {
  constructor(readonly ms: number) {}
}

/** `history` in conditions. */
export class HistoryValue {
  constructor(readonly view: HistoryView | undefined) {}
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** A cached formatter per time zone (building one costs tens of µs); throws RangeError on an unknown zone. */
function formatIn(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', hour: 'numeric', minute: 'numeric', weekday: 'short' });
    formats.set(tz, f);
  }
  return f;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function partOf(ms: number, tz: string, part: 'hour' | 'minute' | 'weekday'): bigint {
  const v = formatIn(tz).formatToParts(new Date(ms)).find((p) => p.type === part)?.value ?? '';
  return BigInt(part === 'weekday' ? WEEKDAYS.indexOf(v) : Number(v));
}

/** Whether Intl knows this IANA time zone (checked when the policy loads). */
export function isTimeZone(tz: string): boolean {
  try {
    formatIn(tz);
    return true;
  } catch {
    return false;
  }
}

export function registerHistoryVariables(env: Environment): void {
  env.registerType('Now', NowValue);
  env.registerType('History', HistoryValue);
  env.registerVariable('now', 'Now');
  env.registerVariable('history', 'History');
  env.registerVariable('counters', 'map<string, int>');
  env.registerFunction('Now.hour(string): int', (n: NowValue, tz: string) => partOf(n.ms, tz, 'hour'));
  env.registerFunction('Now.minute(string): int', (n: NowValue, tz: string) => partOf(n.ms, tz, 'minute'));
  env.registerFunction('Now.weekday(string): int', (n: NowValue, tz: string) => partOf(n.ms, tz, 'weekday'));
  env.registerFunction('History.firstTime(string): bool', (h: HistoryValue, agent: string) => h.view?.firstTime(agent, undefined) ?? true);
  env.registerFunction('History.firstTime(string, string): bool', (h: HistoryValue, agent: string, target: string) => h.view?.firstTime(agent, target) ?? true);
}

export interface HistoryRefs {
  counters: Set<string>;
  usesHistory: boolean;
}

/**
 * Checks what a condition asks of history, when the policy loads: only declared
 * counters, by name (`counters.NAME`); time zones as literal, known IANA names. With
 * `counterContext`, history is refused altogether (a counter's own condition cannot
 * depend on counters). Returns the first problem, or what it reads.
 */
export function checkHistoryRefs(ast: ASTNode, declared: ReadonlySet<string>, counterContext = false): { problem: string; offset: number } | HistoryRefs {
  const refs: HistoryRefs = { counters: new Set(), usesHistory: false };
  let problem: { problem: string; offset: number } | undefined;
  const visit = (node: ASTNode, parent: ASTNode | undefined): void => {
    if (problem) return;
    if (node.op === 'id' && (HISTORY_VARIABLES as readonly string[]).includes(node.args)) {
      const name = node.args;
      if (counterContext && name !== 'now') {
        problem = { problem: `a counter's when and weight cannot read ${name}`, offset: node.start };
        return;
      }
      if (name === 'counters') {
        const field = parent?.op === '.' && parent.args[0] === node ? (parent.args[1]) : undefined;
        if (field === undefined) problem = { problem: 'read a counter as counters.NAME', offset: node.start };
        else if (!declared.has(field)) {
          problem = { problem: `unknown counter "${field}"${declared.size ? `; declared: ${[...declared].join(', ')}` : ': declare it under counters:'}`, offset: node.start };
        } else {
          refs.counters.add(field);
          refs.usesHistory = true;
        }
      } else if (name === 'history') refs.usesHistory = true;
      return;
    }
    if (node.op === 'rcall') {
      const [fn, receiver, args] = node.args;
      if (receiver.op === 'id' && receiver.args === 'now' && ['hour', 'minute', 'weekday'].includes(fn)) {
        const tz = args[0];
        if (!tz || tz.op !== 'value' || typeof tz.args !== 'string') {
          problem = { problem: `now.${fn}() takes a time zone as a string literal, such as "Europe/Berlin"`, offset: tz?.start ?? node.start };
          return;
        }
        if (!isTimeZone(tz.args)) {
          problem = { problem: `unknown time zone "${tz.args}": use an IANA name such as "Europe/Berlin" or "UTC"`, offset: tz.start };
          return;
        }
      }
    }
    for (const child of childrenOf(node)) visit(child, node);
  };
  visit(ast, undefined);
  return problem ?? refs;
}

function childrenOf(node: ASTNode): ASTNode[] {
  const out: ASTNode[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) walk(y);
    else if (typeof x === 'object' && x !== null && 'op' in x && 'args' in x) out.push(x as ASTNode);
  };
  if (node.op !== 'value' && node.op !== 'id') walk(node.args);
  return out;
}

/** The `counters` map of one evaluation: each counter is computed only if a condition reads it. */
export function countersProxy(read: (name: string) => bigint | undefined): Record<string, bigint> {
  return new Proxy({}, {
    get: (_t, k) => (typeof k === 'string' ? read(k) : undefined),
    has: (_t, k) => typeof k === 'string' && read(k) !== undefined,
    getOwnPropertyDescriptor: (_t, k) => {
      const v = typeof k === 'string' ? read(k) : undefined;
      return v === undefined ? undefined : { value: v, enumerable: true, configurable: true, writable: false };
    },
  });
}
