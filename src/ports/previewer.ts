import type { JsonObject } from '../domain/action.js';
import type { ActionPreview } from '../domain/action-record.js';

/**
 * Computes what an action would do, before any reviewer is asked: a dry run (a `sql`
 * statement in a rolled-back transaction, a command's preview command). Called at
 * submission when the outcome is review. Undefined: this action has no preview (none
 * is configured for its program). May throw or hang: the submit service turns that into
 * a `failed` or `timeout` preview, never into a blocked review.
 */
export interface Previewer {
  preview(action: { target: string; input: JsonObject }): Promise<ActionPreview | undefined>;
}
