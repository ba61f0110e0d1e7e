import type { ActionRecord } from '../../../domain/action-record.js';
import { instantOf } from '../store-error.js';
import type { SqliteDb } from './sqlite-db.js';
import type { ActionFacts } from './sqlite-packed-action.js';
import { recordOf } from './sqlite-rows.js';

export interface PinRow {
  tool: string;
  hash: string;
  seen_hash: string;
  seen_definition: string;
}

/** Prepared statements over `held_calls` and `mcp_tool_pins` (migration 4). */
export interface AgentTables {
  hold(a: ActionFacts): void;
  openHeld(requesterId: string, fingerprint: string): ActionRecord | undefined;
  /** True when this call marked it delivered. */
  deliver(actionId: string, atMs: number): boolean;
  pins(server: string): PinRow[];
  pin(server: string, tool: string, hash: string, definition: string, atMs: number): void;
  /** Records the latest definition seen of a pinned tool. */
  seen(server: string, tool: string, hash: string, definition: string): void;
  /** Makes the latest definition seen the pin. True if it changed the pin. */
  repin(server: string, tool: string, atMs: number): boolean;
}

export function createAgentTables(db: SqliteDb): AgentTables {
  const hold = db.prepare('INSERT INTO held_calls (action_id, requester_id, fingerprint, created_at) VALUES (?, ?, ?, ?)');
  const open = db.prepare(`SELECT a.record FROM held_calls h INDEXED BY held_calls_open JOIN actions a ON a.id = h.action_id
    WHERE h.requester_id = ? AND h.fingerprint = ? AND h.delivered_at IS NULL ORDER BY h.created_at DESC, h.action_id DESC LIMIT 1`);
  const deliver = db.prepare('UPDATE held_calls SET delivered_at = ? WHERE action_id = ? AND delivered_at IS NULL');
  const pins = db.prepare('SELECT tool, hash, seen_hash, seen_definition FROM mcp_tool_pins WHERE server = ?');
  const pin = db.prepare('INSERT INTO mcp_tool_pins (server, tool, hash, definition, pinned_at, seen_hash, seen_definition) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const seen = db.prepare('UPDATE mcp_tool_pins SET seen_hash = ?, seen_definition = ? WHERE server = ? AND tool = ?');
  const repin = db.prepare('UPDATE mcp_tool_pins SET hash = seen_hash, definition = seen_definition, pinned_at = ? WHERE server = ? AND tool = ? AND hash <> seen_hash');
  return {
    hold: (a) => void hold.run(a.id, a.requester.id, a.fingerprint, instantOf(a.createdAt, 'createdAt')),
    openHeld(requesterId, fingerprint) {
      const row = open.get(requesterId, fingerprint) as { record: string } | undefined;
      return row ? recordOf(row) : undefined;
    },
    deliver: (id, at) => deliver.run(at, id).changes === 1,
    pins: (server) => pins.all(server) as PinRow[],
    pin: (server, tool, hash, definition, at) => void pin.run(server, tool, hash, definition, at, hash, definition),
    seen: (server, tool, hash, definition) => void seen.run(hash, definition, server, tool),
    repin: (server, tool, at) => repin.run(at, server, tool).changes === 1,
  };
}
