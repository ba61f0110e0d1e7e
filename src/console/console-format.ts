import { shortFingerprint } from '../domain/action.js';
import type { ActionRecord } from '../domain/action-record.js';
import type { HttpInput } from '../domain/action.js';
import { safeLine } from '../domain/visible-text.js';

/** A field the agent sent, as text (strings as they are, anything else as JSON). */
export const textOf = (v: unknown): string => (typeof v === 'string' ? v : v === undefined ? '' : (JSON.stringify(v) ?? ''));

/** One line saying what the action does, for lists (agent text made visible). */
export function operationLine(a: ActionRecord): string {
  if (a.kind === 'http') {
    const h = a.input as unknown as HttpInput;
    return safeLine(`${h.method} ${h.path}`).slice(0, 200);
  }
  if (a.kind === 'sql') return safeLine(textOf((a.input as { sql?: unknown }).sql)).slice(0, 200);
  if (a.kind === 'mcp') return safeLine(`tool ${textOf((a.input as { tool?: unknown }).tool)}`).slice(0, 200);
  const t = a.input as { tool?: unknown; input?: { command?: unknown } };
  const cmd = typeof t.input?.command === 'string' ? `: ${t.input.command}` : '';
  return safeLine(`${t.tool === undefined ? a.kind : textOf(t.tool)}${cmd}`).slice(0, 200);
}

/** "3m", "2h 5m", "1d 2h": coarse on purpose, it is read at a glance. */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function agentOf(a: ActionRecord): string {
  return a.requester.type === 'agent' ? a.requester.id : `${a.requester.id} (human)`;
}

export { shortFingerprint };

const ID = '^act_[A-Za-z0-9]{10,64}$';
/** Action ids in console URLs: what the API accepts, nothing else. */
export const ACTION_ID_PATTERN = ID;
export const idParams = { type: 'object', additionalProperties: false, required: ['id'], properties: { id: { type: 'string', pattern: ID } } } as const;

/** A page cursor in a URL: `<createdAt>~<id>`. */
export const CURSOR_PATTERN = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,3})?Z~act_[A-Za-z0-9]{10,64}$';
export const cursorText = (a: { createdAt: string; id: string }) => `${a.createdAt}~${a.id}`;
export function parseCursor(c: string | undefined): { createdAt: string; id: string } | undefined {
  if (!c) return undefined;
  const i = c.indexOf('~');
  return { createdAt: c.slice(0, i), id: c.slice(i + 1) };
}
