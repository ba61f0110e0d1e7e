import type { ParsedEntry } from '../../domain/audit-governance.js';

// Submissions are a quarter of a log's entries and its largest ones to parse. One
// regular expression, anchored at both ends, reads the whole entry in the gateway's
// canonical shape; it accepts only valid JSON (the request's input by its grammar, to
// a bounded depth), so an entry it reads says exactly what JSON.parse would say, and
// anything else (deeper input, other keys, a garbled byte) is left to JSON.parse, which
// reports it. Measured: about half of JSON.parse's CPU on these entries.

/**
 * A JSON string (no raw control characters, valid escapes), written as runs of plain
 * characters between escapes: the same strings as one alternation per character, which
 * leaves a backtracking point at each and matched a tenth slower (measured).
 */
const STR = '"[^"\\\\\\u0000-\\u001f]*(?:\\\\(?:["\\\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\\\\u0000-\\u001f]*)*"';
const NUM = '-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?';
const LITERAL = `(?:${STR}|${NUM}|true|false|null)`;

/** Any JSON value nested at most `depth` containers deep; each member is followed by a comma that is not the last, or by the closing bracket. */
function value(depth: number): string {
  if (depth === 0) return LITERAL;
  const inner = value(depth - 1);
  return `(?:${LITERAL}|\\{(?:${STR}:${inner}(?:,(?!\\})|(?=\\})))*\\}|\\[(?:${inner}(?:,(?!\\])|(?=\\])))*\\])`;
}

/** A JSON object whose members nest at most `depth` containers deeper. */
const object = (depth: number): string => `\\{(?:${STR}:${value(depth)}(?:,(?!\\})|(?=\\})))*\\}`;

const SUBMITTED = new RegExp(
  '^\\{"actionId":"([A-Za-z0-9_.:-]{1,200})",' +
    `"actor":\\{"id":(${STR}),"type":"(agent|human)"\\},` +
    `"data":\\{"fingerprint":"(sha256:[0-9a-f]{64})","input":${value(4)}(?:,"justification":${STR})?,"kind":${STR},"mode":"(decide|execute)"` +
    `(?:,"onBehalfOf":(${STR}))?,"requester":\\{"id":(${STR})(?:,"owner":(${STR}))?,"type":"(?:agent|human)"\\},"target":${STR}\\},` +
    '"seq":[0-9]{1,16},"ts":"([0-9T:.Z+-]{1,40})","type":"action\\.submitted","v":1\\}$',
);

// Execution results: governance needs only the action, but the entry is matched whole,
// so that a garbled one goes to JSON.parse and is reported. Measured: about 0.05 µs per
// entry of the log more than looking at the first and last bytes only (0.92 µs per
// result for JSON.parse).
const FINISHED = new RegExp(
  '^\\{"actionId":"[A-Za-z0-9_.:-]{1,200}",' +
    `"actor":\\{"id":${STR},"type":"(?:agent|human|system)"\\},"data":${object(3)},` +
    '"seq":[0-9]{1,16},"ts":"[0-9T:.Z+-]{1,40}","type":"execution\\.finished","v":1\\}$',
);

/** The longest entry worth matching (longer ones are parsed: a regular expression's cost grows with them too). */
const MAX_LENGTH = 65_536;

/** A match, or null; an expression that runs out of backtracking room declines too (the entry is then parsed). */
function match(re: RegExp, p: string): RegExpExecArray | null {
  try {
    return re.exec(p);
  } catch {
    return null;
  }
}

/** A captured JSON string's value. */
const text = (s: string): string => (s.includes('\\') ? (JSON.parse(s) as string) : s.slice(1, -1));

/** The action of an execution.finished entry in the canonical shape, or undefined to parse it. */
export function finishedAction(p: string): string | undefined {
  if (p.length > MAX_LENGTH) return undefined;
  // test(), not exec(): no match array to build, which is most of the cost on these short entries.
  let whole = false;
  try {
    whole = FINISHED.test(p);
  } catch {
    // out of backtracking room: parsed instead
  }
  // The expression starts `{"actionId":"` and allows no quote in the id.
  return whole ? p.slice(13, p.indexOf('"', 13)) : undefined;
}

/** What governance reads of an action.submitted entry in the canonical shape, or undefined to parse it. */
export function submittedEntry(p: string, seq: number): ParsedEntry | undefined {
  const m = p.length > MAX_LENGTH ? null : match(SUBMITTED, p);
  if (!m) return undefined;
  const data: Record<string, unknown> = { fingerprint: m[4]!, mode: m[5]!, requester: m[8] === undefined ? { id: text(m[7]!) } : { id: text(m[7]!), owner: text(m[8]) } };
  if (m[6] !== undefined) data.onBehalfOf = text(m[6]);
  return { seq, ts: m[9]!, type: 'action.submitted', actionId: m[1]!, actor: { type: m[3] as 'agent' | 'human', id: text(m[2]!) }, data };
}

// Reviews: a tenth of a log's entries where actions need approval, and the most costly
// of the common ones to parse. Matched whole in the shape applyReview writes (keys in
// canonical order, the optional comment and fingerprint); anything else is parsed.
const STRINGS = `\\[(?:${STR}(?:,${STR})*)?\\]`;
const REVIEWED = new RegExp(
  '^\\{"actionId":"([A-Za-z0-9_.:-]{1,200})",' +
    `"actor":\\{"id":(${STR}),"type":"(agent|human|system)"\\},` +
    `"data":\\{"at":${STR}(?:,"comment":${STR})?,"countsFor":${STRINGS}(?:,"fingerprint":(${STR}))?,"groups":(${STRINGS}),` +
    `"outcome":(${STR}),"reviewer":(${STR}),"verdict":(${STR}),"via":(${STR})\\},` +
    '"seq":[0-9]{1,16},"ts":"([0-9T:.Z+-]{1,40})","type":"action\\.reviewed","v":1\\}$',
);

/** What governance reads of an action.reviewed entry in the canonical shape, or undefined to parse it. */
export function reviewedEntry(p: string, seq: number): ParsedEntry | undefined {
  const m = p.length > MAX_LENGTH ? null : match(REVIEWED, p);
  if (!m) return undefined;
  const data: Record<string, unknown> = { groups: JSON.parse(m[5]!) as string[], outcome: text(m[6]!), reviewer: text(m[7]!), verdict: text(m[8]!), via: text(m[9]!) };
  if (m[4] !== undefined) data.fingerprint = text(m[4]);
  return { seq, ts: m[10]!, type: 'action.reviewed', actionId: m[1]!, actor: { type: m[3] as 'agent' | 'human' | 'system', id: text(m[2]!) }, data };
}
