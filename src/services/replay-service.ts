import type { ActionRecord } from '../domain/action-record.js';
import { CounterBook } from '../domain/counter-book.js';
import { hasActed, qualifies } from '../domain/history-types.js';
import type { CompiledPolicy, EvaluationInput } from '../domain/policy-types.js';
import { ReplayCollector } from '../domain/replay-report.js';
import type { ReplayReport } from '../domain/replay-report.js';
import type { HistoryStore } from '../ports/history-store.js';

const PAGE = 2000;

/**
 * Re-decides recorded actions under another policy, oldest first, streaming them page
 * by page (a million actions never sit in memory at once). Counters and first times
 * are rebuilt as the replay goes, from what actually happened: an action recorded as
 * allowed (or executed) counts towards the new policy's counters from the moment it
 * was, whatever the new policy decides for it. Reads only.
 */
export async function replayHistory(deps: {
  store: Pick<HistoryStore, 'scanActions' | 'countActions'>;
  policy: CompiledPolicy;
  /** The evaluation input of a recorded action (requester labels and target facts come from the config). */
  inputOf(a: ActionRecord): Omit<EvaluationInput, 'history'>;
  fromMs: number;
  toMs: number;
  onProgress?: (done: number, total: number) => void;
  examplesPerGroup?: number;
}): Promise<ReplayReport> {
  const total = await deps.store.countActions(deps.fromMs, deps.toMs);
  const book = new CounterBook();
  const collector = new ReplayCollector(deps.examplesPerGroup);
  const counting = deps.policy.counters.length > 0;
  let after: { createdAt: string; id: string } | undefined;
  let done = 0;
  for (;;) {
    const page = await deps.store.scanActions({ fromMs: deps.fromMs, toMs: deps.toMs, after, limit: PAGE });
    for (const a of page) {
      const nowMs = Date.parse(a.createdAt);
      const input: EvaluationInput = { ...deps.inputOf(a), history: book.view(nowMs) };
      collector.add(a, deps.policy.evaluate(input));
      if (counting) {
        for (const t of deps.policy.tally(input)) {
          const at = countedAt(a, t.on === 'allowed' ? 'allowed' : 'executed');
          if (at !== undefined) book.add({ actionId: a.id, counter: t.counter, key: t.key, weight: t.weight, atMs: at });
        }
      }
      if (hasActed(a.status)) book.acted(a.requester.id, a.target);
    }
    done += page.length;
    deps.onProgress?.(done, total);
    if (page.length < PAGE) break;
    const last = page[page.length - 1]!;
    after = { createdAt: last.createdAt, id: last.id };
  }
  return collector.report();
}

/** When a recorded action became allowed (or started running), if it did. */
function countedAt(a: ActionRecord, on: 'allowed' | 'executed'): number | undefined {
  if (!qualifies(on, a.status)) return undefined;
  if (on === 'executed') return Date.parse(a.result?.startedAt ?? a.updatedAt);
  const approval = a.review?.reviews.filter((r) => r.verdict === 'approve').at(-1);
  return Date.parse(a.decision.outcome === 'allow' || !approval ? a.createdAt : approval.at);
}
