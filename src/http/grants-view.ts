import type { ActionRecord } from '../domain/action-record.js';
import { grantOffer, grantOfferText } from '../domain/grant-offer.js';

/** For a pending action the policy lets approvals grant on: the bounds and the scope in words, shown before approving. */
export function grantableView(a: ActionRecord): Record<string, unknown> | undefined {
  const o = grantOffer(a);
  if (!o) return undefined;
  return { maxTtl: o.maxTtl, maxUses: o.maxUses, scope: a.grantScope, text: grantOfferText(o), ...(o.paths.length ? { paths: o.paths } : {}) };
}
