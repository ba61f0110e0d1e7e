import type { ChatLink, ChatLinkOffer, ConsoleSession, SessionQuery } from '../../../ports/console-sessions.js';
import { instantOf, limitOf } from '../store-error.js';
import type { SessionRow } from '../store-rows.js';
import { iso, sessionOf } from '../store-rows.js';
import type { SqliteDb } from './sqlite-db.js';

/** Statements over the console tables (migration 5); writes run inside the writer's transaction. */
export interface ConsoleTables {
  insertSession(s: ConsoleSession, tokenHash: string): void;
  byToken(tokenHash: string): ConsoleSession | undefined;
  get(id: string): ConsoleSession | undefined;
  touch(id: string, atMs: number): void;
  end(id: string, atMs: number, reason: string): boolean;
  list(q: SessionQuery): ConsoleSession[];
  offer(codeHash: string, o: ChatLinkOffer, createdAtMs: number): void;
  openOffer(codeHash: string, atMs: number): ChatLinkOffer | undefined;
  useOffer(codeHash: string, atMs: number): boolean;
  bind(link: ChatLink): void;
  linked(channel: string, chatUserId: string): string | undefined;
}

const COLS = 'id, human, known, groups, created_at, last_seen_at, expires_at, ended_at, end_reason';

export function createConsoleTables(db: SqliteDb): ConsoleTables {
  const insert = db.prepare(`INSERT INTO console_sessions (id, token_hash, human, known, groups, created_at, last_seen_at, expires_at)
    VALUES (@id, @token_hash, @human, @known, @groups, @created_at, @last_seen_at, @expires_at)`);
  const byToken = db.prepare(`SELECT ${COLS} FROM console_sessions WHERE token_hash = ?`);
  const byId = db.prepare(`SELECT ${COLS} FROM console_sessions WHERE id = ?`);
  const touch = db.prepare('UPDATE console_sessions SET last_seen_at = max(last_seen_at, ?) WHERE id = ? AND ended_at IS NULL');
  const end = db.prepare('UPDATE console_sessions SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL');
  const list = db.prepare(`SELECT ${COLS} FROM console_sessions
    WHERE (@active IS NULL OR (ended_at IS NULL AND created_at <= @active AND expires_at > @active)) AND (@human IS NULL OR human = @human)
    ORDER BY created_at DESC, id DESC LIMIT @limit`);
  const offer = db.prepare('INSERT INTO chat_link_offers (code_hash, channel, chat_user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)');
  const openOffer = db.prepare('SELECT channel, chat_user_id, expires_at FROM chat_link_offers WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?');
  const useOffer = db.prepare('UPDATE chat_link_offers SET used_at = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?');
  const bind = db.prepare(`INSERT INTO chat_links (channel, chat_user_id, human, linked_at) VALUES (@channel, @chat_user_id, @human, @linked_at)
    ON CONFLICT (channel, chat_user_id) DO UPDATE SET human = excluded.human, linked_at = excluded.linked_at`);
  const linked = db.prepare('SELECT human FROM chat_links WHERE channel = ? AND chat_user_id = ?');
  return {
    insertSession(s, tokenHash) {
      insert.run({
        id: s.id,
        token_hash: tokenHash,
        human: s.human,
        known: s.known ? 1 : 0,
        groups: JSON.stringify(s.groups),
        created_at: instantOf(s.createdAt, 'createdAt'),
        last_seen_at: instantOf(s.lastSeenAt, 'lastSeenAt'),
        expires_at: instantOf(s.expiresAt, 'expiresAt'),
      });
    },
    byToken(tokenHash) {
      const r = byToken.get(tokenHash) as SessionRow | undefined;
      return r ? sessionOf(r) : undefined;
    },
    get(id) {
      const r = byId.get(id) as SessionRow | undefined;
      return r ? sessionOf(r) : undefined;
    },
    touch: (id, at) => void touch.run(at, id),
    end: (id, at, reason) => end.run(at, reason, id).changes === 1,
    list: (q) =>
      (list.all({ active: q.activeAt === undefined ? null : instantOf(q.activeAt, 'activeAt'), human: q.human ?? null, limit: limitOf(q.limit) }) as SessionRow[]).map(sessionOf),
    offer: (codeHash, o, at) => void offer.run(codeHash, o.channel, o.chatUserId, at, instantOf(o.expiresAt, 'expiresAt')),
    openOffer(codeHash, at) {
      const r = openOffer.get(codeHash, at) as { channel: ChatLink['channel']; chat_user_id: string; expires_at: number } | undefined;
      return r ? { channel: r.channel, chatUserId: r.chat_user_id, expiresAt: iso(r.expires_at) } : undefined;
    },
    useOffer: (codeHash, at) => useOffer.run(at, codeHash, at).changes === 1,
    bind: (l) => void bind.run({ channel: l.channel, chat_user_id: l.chatUserId, human: l.human, linked_at: instantOf(l.linkedAt, 'linkedAt') }),
    linked(channel, chatUserId) {
      const r = linked.get(channel, chatUserId) as { human: string } | undefined;
      return r?.human;
    },
  };
}
