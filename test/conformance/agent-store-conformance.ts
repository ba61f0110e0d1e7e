// Conformance suites for the HeldCallStore and ToolPinStore ports: every store that
// implements them runs these unchanged.
import { describe, expect, it } from 'vitest';
import type { HeldCallStore } from '../../src/ports/held-calls.js';
import type { Store } from '../../src/ports/store.js';
import type { ListedTool, ToolPinStore } from '../../src/ports/tool-pins.js';
import { agentA, agentB, allEntries, at, expectWellFormedLog, newAction, review } from './store-fixtures.js';

export type AgentStore = Store & HeldCallStore & ToolPinStore;

const delivered = (id: string) => [{ type: 'action.delivered' as const, ts: at(5).toISOString(), actionId: id, data: { status: 'approved' } }];

export function describeAgentStoreConformance(name: string, open: () => Promise<{ store: AgentStore; reopen(): Promise<AgentStore>; cleanup(): Promise<void> }>): void {
  describe(`HeldCallStore and ToolPinStore conformance: ${name}`, () => {
    const withStore = (fn: (s: AgentStore, h: Awaited<ReturnType<typeof open>>) => Promise<void>) => async () => {
      const h = await open();
      try {
        await fn(h.store, h);
      } finally {
        await h.cleanup();
      }
    };

    it('a held action is found by requester and fingerprint until its outcome is delivered, once', withStore(async (s) => {
      const t = newAction({ decision: review() });
      expect((await s.insertHeld(t.next, t.audit)).inserted).toBe(true);
      expect((await s.openHeld(agentA.id, t.next.fingerprint))?.id).toBe(t.next.id);
      expect(await s.openHeld(agentB.id, t.next.fingerprint)).toBeUndefined();
      expect(await s.deliver(t.next.id, delivered(t.next.id))).toBe(true);
      expect(await s.openHeld(agentA.id, t.next.fingerprint)).toBeUndefined();
      // Delivered once: a second delivery writes nothing, not even its audit entry.
      const size = await s.auditSize();
      expect(await s.deliver(t.next.id, delivered(t.next.id))).toBe(false);
      expect(await s.auditSize()).toBe(size);
      const entries = await allEntries(s);
      expect(entries.filter((e) => e.type === 'action.delivered')).toHaveLength(1);
      expectWellFormedLog(entries);
    }));

    it('the newest open held action wins; actions inserted without holding are never found', withStore(async (s) => {
      const older = newAction({ decision: review(), now: at(0) });
      const newer = newAction({ decision: review(), now: at(1000) });
      const plain = newAction({ decision: review(), now: at(2000) });
      await s.insertHeld(older.next, older.audit);
      await s.insertHeld(newer.next, newer.audit);
      await s.insertAction(plain.next, plain.audit);
      expect((await s.openHeld(agentA.id, older.next.fingerprint))?.id).toBe(newer.next.id);
      await s.deliver(newer.next.id, delivered(newer.next.id));
      expect((await s.openHeld(agentA.id, older.next.fingerprint))?.id).toBe(older.next.id);
      expect(await s.deliver('act_missing', delivered('act_missing'))).toBe(false);
    }));

    it('an idempotent replay through insertHeld writes nothing and holds nothing new', withStore(async (s) => {
      const first = newAction({ decision: review(), idempotencyKey: 'k1' });
      const again = newAction({ decision: review(), idempotencyKey: 'k1' });
      await s.insertHeld(first.next, first.audit);
      const size = await s.auditSize();
      const r = await s.insertHeld(again.next, again.audit);
      expect(r.inserted).toBe(false);
      expect(await s.auditSize()).toBe(size);
      expect((await s.openHeld(agentA.id, first.next.fingerprint))?.id).toBe(first.next.id);
    }));

    const tool = (name: string, hash: string): ListedTool => ({ name, hash, definition: { name, description: hash } });

    it('pins tools on first sight, reports and audits a changed definition once, and keeps the pin', withStore(async (s, h) => {
      expect(await s.observe('files', [tool('read', 'sha256:a'), tool('write', 'sha256:b')], at(0).toISOString())).toEqual({ changed: [] });
      expect(await s.pins('files')).toEqual(new Map([['read', 'sha256:a'], ['write', 'sha256:b']]));
      expect(await s.observe('files', [tool('read', 'sha256:a2'), tool('write', 'sha256:b')], at(1).toISOString())).toEqual({ changed: ['read'] });
      const size = await s.auditSize();
      // Still changed, already audited: reported, not written again.
      expect(await s.observe('files', [tool('read', 'sha256:a2')], at(2).toISOString())).toEqual({ changed: ['read'] });
      expect(await s.auditSize()).toBe(size);
      const entries = await allEntries(s);
      expect(entries.map((e) => e.type)).toEqual(['mcp.tool.pinned', 'mcp.tool.changed']);
      expect(entries[1]!.data).toMatchObject({ server: 'files', tool: 'read', pinnedHash: 'sha256:a', hash: 'sha256:a2' });
      expectWellFormedLog(entries);
      // Durable: another store on the same data sees the same pins.
      const other = await h.reopen();
      expect((await other.pins('files')).get('read')).toBe('sha256:a');
      expect(await other.observe('files', [tool('read', 'sha256:a')], at(3).toISOString())).toEqual({ changed: [] });
    }));

    it('re-pinning accepts the latest definition seen, audited; nothing to re-pin is refused', withStore(async (s) => {
      await s.observe('files', [tool('read', 'sha256:a')], at(0).toISOString());
      expect(await s.repin('files', 'read', 'alice@example.com', at(1).toISOString())).toBe(false);
      await s.observe('files', [tool('read', 'sha256:a2')], at(2).toISOString());
      expect(await s.repin('files', 'read', 'alice@example.com', at(3).toISOString())).toBe(true);
      expect((await s.pins('files')).get('read')).toBe('sha256:a2');
      expect(await s.observe('files', [tool('read', 'sha256:a2')], at(4).toISOString())).toEqual({ changed: [] });
      expect(await s.repin('files', 'nope', 'alice@example.com', at(5).toISOString())).toBe(false);
      const last = (await allEntries(s)).filter((e) => e.type === 'mcp.tool.repinned');
      expect(last).toHaveLength(1);
      expect(last[0]!.actor).toEqual({ type: 'human', id: 'alice@example.com' });
    }));
  });
}
