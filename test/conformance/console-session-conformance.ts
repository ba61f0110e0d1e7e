// The console's ConsoleSessionStore and ChatLinkStore promises, for every store that implements them.
import { describe, expect, it } from 'vitest';
import type { AuditDraft } from '../../src/domain/audit-entry.js';
import type { ChatLinkStore, ConsoleSession, ConsoleSessionStore } from '../../src/ports/console-sessions.js';
import type { Store } from '../../src/ports/store.js';

type Stores = Store & { console: ConsoleSessionStore & ChatLinkStore };

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();
const hour = 3_600_000;

function session(id: string, human = 'alice@example.com', createdMs = 0): ConsoleSession {
  return { id, human, known: true, groups: ['release'], createdAt: at(createdMs), lastSeenAt: at(createdMs), expiresAt: at(createdMs + 8 * hour) };
}
const started = (s: ConsoleSession): AuditDraft => ({ type: 'console.session.started', ts: s.createdAt, actor: { type: 'human', id: s.human }, data: { session: s.id, human: s.human } });

export function consoleSessionConformance(name: string, open: () => Stores | Promise<Stores>) {
  describe(`${name}: ConsoleSessionStore`, () => {
    it('a session is found by its token hash only, and its sign-in is audited in the same write', async () => {
      const s = await open();
      const a = session('cs_a');
      await s.console.createSession(a, 'h'.repeat(64), [started(a)]);
      expect(await s.console.sessionByToken('h'.repeat(64))).toEqual(a);
      expect(await s.console.sessionByToken('x'.repeat(64))).toBeUndefined();
      expect(await s.console.getSession('cs_a')).toEqual(a);
      const entries = await s.readAudit(0, 10);
      expect(entries.map((e) => [e.type, e.data.session])).toEqual([['console.session.started', 'cs_a']]);
    });

    it('a token hash names one session: a second session with it is refused', async () => {
      const s = await open();
      await s.console.createSession(session('cs_a'), 'h'.repeat(64), []);
      await expect(s.console.createSession(session('cs_b'), 'h'.repeat(64), [])).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
      expect(await s.console.getSession('cs_b')).toBeUndefined();
    });

    it('activity moves lastSeenAt forward only, and never revives an ended session', async () => {
      const s = await open();
      await s.console.createSession(session('cs_a'), 'a'.repeat(64), []);
      await s.console.touchSession('cs_a', at(60_000));
      await s.console.touchSession('cs_a', at(30_000));
      expect((await s.console.getSession('cs_a'))!.lastSeenAt).toBe(at(60_000));
      expect(await s.console.endSession('cs_a', at(90_000), 'logout', [])).toBe(true);
      await s.console.touchSession('cs_a', at(120_000));
      const ended = (await s.console.getSession('cs_a'))!;
      expect(ended).toMatchObject({ lastSeenAt: at(60_000), endedAt: at(90_000), endReason: 'logout' });
    });

    it('a session ends once: ending it again changes nothing and writes no entry', async () => {
      const s = await open();
      await s.console.createSession(session('cs_a'), 'a'.repeat(64), []);
      const end: AuditDraft = { type: 'console.session.ended', ts: at(1), data: { session: 'cs_a', reason: 'revoked' } };
      expect(await s.console.endSession('cs_a', at(1), 'revoked', [end])).toBe(true);
      expect(await s.console.endSession('cs_a', at(2), 'logout', [end])).toBe(false);
      expect(await s.console.endSession('cs_missing', at(2), 'logout', [end])).toBe(false);
      expect((await s.console.getSession('cs_a'))!.endReason).toBe('revoked');
      expect(await s.auditSize()).toBe(1);
    });

    it('lists sessions newest first, the active ones at an instant, or one human\'s', async () => {
      const s = await open();
      await s.console.createSession(session('cs_1', 'alice@example.com', 0), '1'.repeat(64), []);
      await s.console.createSession(session('cs_2', 'bob@example.com', 1000), '2'.repeat(64), []);
      await s.console.createSession(session('cs_3', 'alice@example.com', 9 * hour), '3'.repeat(64), []);
      await s.console.endSession('cs_2', at(2000), 'logout', []);
      expect((await s.console.listSessions({ limit: 10 })).map((x) => x.id)).toEqual(['cs_3', 'cs_2', 'cs_1']);
      expect((await s.console.listSessions({ limit: 10, activeAt: at(3000) })).map((x) => x.id)).toEqual(['cs_1']);
      expect((await s.console.listSessions({ limit: 10, activeAt: at(9 * hour) })).map((x) => x.id)).toEqual(['cs_3']);
      expect((await s.console.listSessions({ limit: 10, human: 'alice@example.com' })).map((x) => x.id)).toEqual(['cs_3', 'cs_1']);
      expect((await s.console.listSessions({ limit: 1 })).map((x) => x.id)).toEqual(['cs_3']);
    });
  });

  describe(`${name}: ChatLinkStore`, () => {
    const offer = { channel: 'slack' as const, chatUserId: 'U123', expiresAt: at(15 * 60_000) };

    it('a link code binds its chat account once, with a chat.identity.linked entry', async () => {
      const s = await open();
      await s.console.offerLink('c'.repeat(64), offer, at(0));
      expect(await s.console.linkOffer('c'.repeat(64), at(1000))).toEqual(offer);
      const link = await s.console.claimLink('c'.repeat(64), 'alice@example.com', at(2000));
      expect(link).toEqual({ channel: 'slack', chatUserId: 'U123', human: 'alice@example.com', linkedAt: at(2000) });
      expect(await s.console.linkedHuman('slack', 'U123')).toBe('alice@example.com');
      expect(await s.console.linkedHuman('teams', 'U123')).toBeUndefined();
      expect(await s.console.claimLink('c'.repeat(64), 'mallory@example.com', at(3000))).toBeUndefined();
      expect(await s.console.linkedHuman('slack', 'U123')).toBe('alice@example.com');
      const entries = await s.readAudit(0, 10);
      expect(entries.map((e) => [e.type, e.actor?.id, e.data.chatUserId])).toEqual([['chat.identity.linked', 'alice@example.com', 'U123']]);
    });

    it('an expired or unknown code binds nothing and writes no entry', async () => {
      const s = await open();
      await s.console.offerLink('c'.repeat(64), offer, at(0));
      expect(await s.console.linkOffer('c'.repeat(64), at(15 * 60_000))).toBeUndefined();
      expect(await s.console.claimLink('c'.repeat(64), 'alice@example.com', at(15 * 60_000))).toBeUndefined();
      expect(await s.console.claimLink('d'.repeat(64), 'alice@example.com', at(0))).toBeUndefined();
      expect(await s.console.linkedHuman('slack', 'U123')).toBeUndefined();
      expect(await s.auditSize()).toBe(0);
    });

    it('a new link replaces the earlier binding and names it in its entry', async () => {
      const s = await open();
      await s.console.offerLink('1'.repeat(64), offer, at(0));
      await s.console.offerLink('2'.repeat(64), offer, at(0));
      await s.console.claimLink('1'.repeat(64), 'alice@example.com', at(1));
      await s.console.claimLink('2'.repeat(64), 'bob@example.com', at(2));
      expect(await s.console.linkedHuman('slack', 'U123')).toBe('bob@example.com');
      const [, second] = await s.readAudit(0, 10);
      expect(second!.data).toMatchObject({ human: 'bob@example.com', previous: 'alice@example.com' });
    });
  });
}
