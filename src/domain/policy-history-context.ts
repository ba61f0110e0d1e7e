import { HistoryValue, NowValue, countersProxy } from './policy-cel-history.js';
import { keyOf } from './policy-counters.js';
import type { CompiledCounter } from './policy-counters.js';
import type { CelContext } from './policy-facts.js';
import type { EvaluationInput } from './policy-types.js';

/** Adds `counters`, `history` and `now` to an evaluation's CEL activation. */
export function withHistory(ctx: CelContext, counters: ReadonlyMap<string, CompiledCounter>, e: EvaluationInput): CelContext {
  const view = e.history;
  // Without a view (policy test, explain): an empty history at the real time.
  ctx.now = new NowValue(view ? view.nowMs : Date.now());
  ctx.history = new HistoryValue(view);
  if (counters.size > 0) {
    ctx.counters = countersProxy((name) => {
      const c = counters.get(name);
      if (!c) return undefined;
      return BigInt(view ? view.count(name, keyOf(c.by, e), c.windowMs) : 0);
    });
  } else ctx.counters = EMPTY;
  return ctx;
}

const EMPTY: Record<string, bigint> = Object.freeze({});
