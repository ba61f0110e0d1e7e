import type { JsonObject } from '../domain/action.js';
import type { SqlPreview } from '../domain/sql-preview.js';

/**
 * Computes what an action would do, before any reviewer is asked (a dry run of a `sql`
 * action). Called at submission when the outcome is review. A target whose preview is
 * disabled answers `skipped` with the reason. May throw or hang: the submit service
 * turns that into a `failed` or `timeout` preview, never into a blocked review.
 */
export interface SqlPreviewer {
  preview(action: { target: string; input: JsonObject }): Promise<SqlPreview>;
}
