import type { ActionRecord } from '../domain/action-record.js';
import type { Requirement, Review } from '../domain/review.js';

/** What happened to an action, after it committed. */
export type ActionEvent =
  | { type: 'created'; action: ActionRecord }
  | { type: 'reviewed'; action: ActionRecord; review: Review }
  | { type: 'escalated'; action: ActionRecord; escalated: Requirement[] }
  | { type: 'changed'; action: ActionRecord };

/**
 * Told about every committed change. Implementations must not throw and must not
 * slow the gate: they queue work and return.
 */
export interface Notifier {
  notify(event: ActionEvent): void;
}
