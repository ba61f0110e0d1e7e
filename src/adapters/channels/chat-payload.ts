/** Reading untrusted chat payloads (Slack interactions, Teams activities) without trusting their shape. */

export type Obj = Record<string, unknown>;

export const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);

/** What a button or card must name: an action id and a fingerprint, in their exact formats. */
export function actionTarget(actionId: unknown, fingerprint: unknown): { actionId: string; fingerprint: string } | undefined {
  const a = str(actionId);
  const f = str(fingerprint);
  return a && f && /^act_[A-Za-z0-9]{10,64}$/.test(a) && /^sha256:[0-9a-f]{64}$/.test(f) ? { actionId: a, fingerprint: f } : undefined;
}
