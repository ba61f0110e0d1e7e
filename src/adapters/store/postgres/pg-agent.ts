import type { ActionRecord } from '../../../domain/action-record.js';
import { instantOf } from '../store-error.js';
import type { Sql } from './pg-connect.js';

export interface PinRow {
  tool: string;
  hash: string;
  seen_hash: string;
  seen_definition: string;
}

/** Held calls and MCP tool pins (the SQLite store's migration 4, here migration 2). */
export const agentSql = {
  async hold(q: Sql, a: ActionRecord): Promise<void> {
    await q.query('INSERT INTO held_calls (action_id, requester_id, fingerprint, created_at) VALUES ($1, $2, $3, $4)', [a.id, a.requester.id, a.fingerprint, instantOf(a.createdAt, 'createdAt')]);
  },
  async openHeld(q: Sql, requesterId: string, fingerprint: string): Promise<ActionRecord | undefined> {
    const r = await q.query<{ record: string }>(
      `SELECT a.record FROM held_calls h JOIN actions a ON a.id = h.action_id
       WHERE h.requester_id = $1 AND h.fingerprint = $2 AND h.delivered_at IS NULL ORDER BY h.created_at DESC, h.action_id DESC LIMIT 1`,
      [requesterId, fingerprint],
    );
    return r.rows[0] ? (JSON.parse(r.rows[0].record) as ActionRecord) : undefined;
  },
  async deliver(q: Sql, actionId: string, at: number): Promise<boolean> {
    return (await q.query('UPDATE held_calls SET delivered_at = $1 WHERE action_id = $2 AND delivered_at IS NULL', [at, actionId])).rowCount === 1;
  },
  async pins(q: Sql, server: string): Promise<PinRow[]> {
    return (await q.query<PinRow>('SELECT tool, hash, seen_hash, seen_definition FROM mcp_tool_pins WHERE server = $1', [server])).rows;
  },
  async pin(q: Sql, server: string, tool: string, hash: string, definition: string, at: number): Promise<void> {
    await q.query('INSERT INTO mcp_tool_pins (server, tool, hash, definition, pinned_at, seen_hash, seen_definition) VALUES ($1, $2, $3, $4, $5, $3, $4)', [server, tool, hash, definition, at]);
  },
  async seen(q: Sql, server: string, tool: string, hash: string, definition: string): Promise<void> {
    await q.query('UPDATE mcp_tool_pins SET seen_hash = $1, seen_definition = $2 WHERE server = $3 AND tool = $4', [hash, definition, server, tool]);
  },
  async repin(q: Sql, server: string, tool: string, at: number): Promise<boolean> {
    return (await q.query('UPDATE mcp_tool_pins SET hash = seen_hash, definition = seen_definition, pinned_at = $1 WHERE server = $2 AND tool = $3 AND hash <> seen_hash', [at, server, tool])).rowCount === 1;
  },
};
