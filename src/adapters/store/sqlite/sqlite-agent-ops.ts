import type { AuditDraft } from '../../../domain/audit-entry.js';
import type { InsertResult } from '../../../ports/store.js';
import type { ListedTool } from '../../../ports/tool-pins.js';
import { instantOf } from '../store-error.js';
import type { AgentTables } from './sqlite-agent-tables.js';
import type { AuditTable } from './sqlite-audit.js';
import type { ActionInsert, PackedAction } from './sqlite-packed-action.js';
import { unpackAction } from './sqlite-packed-action.js';

type InsertOp = (a: ActionInsert) => { inserted: true } | Extract<InsertResult, { inserted: false }>;

/** The write operations of held calls and tool pins; they join the registry in sqlite-write-ops.ts. */
export function createAgentWriteOps(t: { agent: AgentTables; audit: AuditTable }, insertAction: InsertOp) {
  return {
    insertHeld(args: { action: PackedAction }): ReturnType<InsertOp> {
      const a = unpackAction(args.action);
      const r = insertAction(a);
      if (r.inserted) t.agent.hold(a.facts);
      return r;
    },
    deliver({ actionId, drafts, at }: { actionId: string; drafts: readonly AuditDraft[]; at: string }): boolean {
      if (!t.agent.deliver(actionId, instantOf(at, 'at'))) return false;
      t.audit.appendEntries(drafts);
      return true;
    },
    observeTools({ server, tools, now }: { server: string; tools: readonly ListedTool[]; now: string }): { changed: string[] } {
      // Read inside the transaction: two processes observing together pin and audit once.
      const pins = new Map(t.agent.pins(server).map((p) => [p.tool, p]));
      const at = instantOf(now, 'now');
      const pinned: Array<{ name: string; hash: string }> = [];
      const drafts: AuditDraft[] = [];
      const changed: string[] = [];
      for (const tool of tools) {
        const pin = pins.get(tool.name);
        const definition = JSON.stringify(tool.definition);
        if (!pin) {
          t.agent.pin(server, tool.name, tool.hash, definition, at);
          pinned.push({ name: tool.name, hash: tool.hash });
          continue;
        }
        if (pin.hash === tool.hash) continue;
        changed.push(tool.name);
        if (pin.seen_hash === tool.hash) continue; // this definition was already audited
        t.agent.seen(server, tool.name, tool.hash, definition);
        drafts.push({
          type: 'mcp.tool.changed',
          ts: now,
          actor: { type: 'system', id: 'countersign' },
          data: { server, tool: tool.name, pinnedHash: pin.hash, previousHash: pin.seen_hash, hash: tool.hash, definition: tool.definition },
        });
      }
      if (pinned.length) drafts.unshift({ type: 'mcp.tool.pinned', ts: now, actor: { type: 'system', id: 'countersign' }, data: { server, tools: pinned } });
      if (drafts.length) t.audit.appendEntries(drafts);
      return { changed };
    },
    repin({ server, tool, actor, now }: { server: string; tool: string; actor: string; now: string }): boolean {
      const pin = t.agent.pins(server).find((p) => p.tool === tool);
      if (!pin || !t.agent.repin(server, tool, instantOf(now, 'now'))) return false;
      t.audit.appendEntries([{ type: 'mcp.tool.repinned', ts: now, actor: { type: 'human', id: actor }, data: { server, tool, previousHash: pin.hash, hash: pin.seen_hash } }]);
      return true;
    },
  };
}
