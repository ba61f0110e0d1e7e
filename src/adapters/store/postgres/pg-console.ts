import type { ChatLink, ChatLinkOffer, ConsoleSession, SessionQuery } from '../../../ports/console-sessions.js';
import { instantOf, limitOf } from '../store-error.js';
import type { SessionRow } from '../store-rows.js';
import { iso, sessionOf } from '../store-rows.js';
import type { Sql } from './pg-connect.js';

const COLS = 'id, human, known, groups, created_at, last_seen_at, expires_at, ended_at, end_reason';
const one = async (q: Sql, where: string, v: string) => {
  const r = (await q.query<SessionRow>(`SELECT ${COLS} FROM console_sessions WHERE ${where} = $1`, [v])).rows[0];
  return r ? sessionOf(r) : undefined;
};

/** Console sessions and chat links (migration 4, the SQLite store's 5); writes run inside the writer's transaction. */
export const consoleSql = {
  async insertSession(q: Sql, s: ConsoleSession, tokenHash: string): Promise<void> {
    await q.query(
      `INSERT INTO console_sessions (id, token_hash, human, known, groups, created_at, last_seen_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [
        s.id,
        tokenHash,
        s.human,
        s.known ? 1 : 0,
        JSON.stringify(s.groups),
        instantOf(s.createdAt, 'createdAt'),
        instantOf(s.lastSeenAt, 'lastSeenAt'),
        instantOf(s.expiresAt, 'expiresAt'),
      ],
    );
  },
  byToken: (q: Sql, tokenHash: string) => one(q, 'token_hash', tokenHash),
  get: (q: Sql, id: string) => one(q, 'id', id),
  async touch(q: Sql, id: string, atMs: number): Promise<void> {
    await q.query('UPDATE console_sessions SET last_seen_at = GREATEST(last_seen_at, $1) WHERE id = $2 AND ended_at IS NULL', [atMs, id]);
  },
  end: async (q: Sql, id: string, atMs: number, reason: string) =>
    (await q.query('UPDATE console_sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL', [atMs, reason, id])).rowCount === 1,
  list: async (q: Sql, s: SessionQuery) =>
    (
      await q.query<SessionRow>(
        `SELECT ${COLS} FROM console_sessions
         WHERE ($1::bigint IS NULL OR (ended_at IS NULL AND created_at <= $1 AND expires_at > $1)) AND ($2::text IS NULL OR human = $2)
         ORDER BY created_at DESC, id DESC LIMIT $3`,
        [s.activeAt === undefined ? null : instantOf(s.activeAt, 'activeAt'), s.human ?? null, limitOf(s.limit)],
      )
    ).rows.map(sessionOf),
  async offer(q: Sql, codeHash: string, o: ChatLinkOffer, createdAtMs: number): Promise<void> {
    await q.query('INSERT INTO chat_link_offers (code_hash, channel, chat_user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      codeHash,
      o.channel,
      o.chatUserId,
      createdAtMs,
      instantOf(o.expiresAt, 'expiresAt'),
    ]);
  },
  async openOffer(q: Sql, codeHash: string, atMs: number): Promise<ChatLinkOffer | undefined> {
    const r = (
      await q.query<{ channel: ChatLink['channel']; chat_user_id: string; expires_at: number }>(
        'SELECT channel, chat_user_id, expires_at FROM chat_link_offers WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $2',
        [codeHash, atMs],
      )
    ).rows[0];
    return r ? { channel: r.channel, chatUserId: r.chat_user_id, expiresAt: iso(r.expires_at) } : undefined;
  },
  /** Uses an offer once: the row lock makes a racing claim on another replica find it used. */
  useOffer: async (q: Sql, codeHash: string, atMs: number) =>
    (await q.query('UPDATE chat_link_offers SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1', [atMs, codeHash])).rowCount === 1,
  async bind(q: Sql, l: ChatLink): Promise<void> {
    await q.query(
      `INSERT INTO chat_links (channel, chat_user_id, human, linked_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (channel, chat_user_id) DO UPDATE SET human = excluded.human, linked_at = excluded.linked_at`,
      [l.channel, l.chatUserId, l.human, instantOf(l.linkedAt, 'linkedAt')],
    );
  },
  linked: async (q: Sql, channel: string, chatUserId: string) =>
    (await q.query<{ human: string }>('SELECT human FROM chat_links WHERE channel = $1 AND chat_user_id = $2', [channel, chatUserId])).rows[0]?.human,
};
