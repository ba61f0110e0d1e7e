/** Who is calling. Agents submit; humans review (and may submit). */
export type Principal =
  | { type: 'agent'; id: string; owner: string; labels: Record<string, string> }
  | { type: 'human'; id: string; groups: readonly string[] };

/**
 * Human ids are printable ASCII: case-insensitive comparison of Unicode look-alikes
 * (the Kelvin sign lower-cases to k) would let one person pass for another.
 */
export const HUMAN_ID = /^[\x21-\x7e]{3,320}$/;

/** A reference to approvers in policy: `group:NAME` or `user:EMAIL`. */
export type ApproverRef = `group:${string}` | `user:${string}`;

export function isApproverRef(s: string): s is ApproverRef {
  return /^(group|user):[^\s:][^\s]*$/.test(s);
}

/** Whether an approver reference names this human (emails compare case-insensitively). */
export function refMatches(ref: string, human: { id: string; groups: readonly string[] }): boolean {
  if (ref.startsWith('user:')) return ref.slice(5).toLowerCase() === human.id.toLowerCase();
  if (ref.startsWith('group:')) return human.groups.includes(ref.slice(6));
  return false;
}
