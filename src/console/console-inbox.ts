import type { ActionRecord } from '../domain/action-record.js';
import { audienceOf } from '../domain/action-access.js';
import { reviewBlock } from '../domain/console-eligibility.js';
import type { Principal } from '../domain/identity.js';
import type { Store } from '../ports/store.js';
import { agentOf, operationLine, span } from './console-format.js';
import type { Html } from './console-html.js';
import { html } from './console-html.js';

export interface InboxPage {
  rows: ActionRecord[];
  /** Cursor of the next (older) page, when there may be one. */
  next?: { createdAt: string; id: string };
}

/** Most candidates read to fill one page (rows the human cannot decide are skipped). */
const SCAN_LIMIT = 500;

/**
 * The pending actions this human may decide now, newest first: read from the store's
 * audience index (requirements naming them or their groups, escalation targets once
 * escalated), then kept only where the review rules themselves would accept their
 * review (separation of duties, eligibility, not yet reviewed).
 */
export async function inboxPage(store: Pick<Store, 'listActions'>, who: Principal, known: boolean, pageSize: number, before?: { createdAt: string; id: string }): Promise<InboxPage> {
  if (!known || who.type !== 'human') return { rows: [] };
  const rows: ActionRecord[] = [];
  const cursorOf = (a: ActionRecord) => ({ createdAt: a.createdAt, id: a.id });
  let cursor = before;
  let scanned = 0;
  for (;;) {
    const batch = await store.listActions({ status: ['pending'], audience: audienceOf(who), limit: pageSize + 1, ...(cursor ? { before: cursor } : {}) });
    const slice = batch.slice(0, pageSize);
    for (let i = 0; i < slice.length; i++) {
      const a = slice[i]!;
      scanned++;
      if (reviewBlock(who, a)) continue;
      rows.push(a);
      if (rows.length === pageSize) return { rows, ...(i < slice.length - 1 || batch.length > pageSize ? { next: cursorOf(a) } : {}) };
    }
    if (batch.length <= pageSize) return { rows };
    cursor = cursorOf(slice[slice.length - 1]!);
    if (scanned >= SCAN_LIMIT) return { rows, next: cursor };
  }
}

/** A row's checkbox value: the action and the fingerprint shown, which its decision is bound to. */
export const batchPick = (a: Pick<ActionRecord, 'id' | 'fingerprint'>) => `${a.id}@${a.fingerprint}`;
export const BATCH_PICK_PATTERN = '^act_[A-Za-z0-9]{10,64}@sha256:[0-9a-f]{64}$';

export function inboxRows(rows: readonly ActionRecord[], now: Date): Html {
  if (rows.length === 0) return html`<tr><td colspan="8" class="empty">Nothing waiting for you.</td></tr>`;
  return html`${rows.map((a) => {
    const age = span(now.getTime() - Date.parse(a.createdAt));
    const left = a.review ? span(Date.parse(a.review.expiresAt) - now.getTime()) : '';
    return html`<tr data-id="${a.id}">
  <td><input type="checkbox" name="pick" value="${batchPick(a)}" form="batch" aria-label="Select ${operationLine(a)} (${a.id})"></td>
  <td><a href="/console/actions/${a.id}">${operationLine(a)}</a></td>
  <td>${agentOf(a)}</td>
  <td>${a.target}</td>
  <td>${a.kind}</td>
  <td>${a.decision.rules.join(', ') || '(default)'}</td>
  <td><time datetime="${a.createdAt}">${age}</time></td>
  <td>${a.review ? html`<time datetime="${a.review.expiresAt}">${left}</time>` : ''}</td>
</tr>`;
  })}`;
}
