import { createHash, randomBytes } from 'node:crypto';
import { AppError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { ChatLink, ChatLinkStore } from '../ports/console-sessions.js';
import type { DirectoryHuman } from './chat-review.js';

export const linkCodeHash = (code: string): string => createHash('sha256').update(code).digest('hex');

/**
 * Who a chat click counts as. A chat account linked through a console sign-in (the IdP
 * verified the human) is that human, whatever the configured mapping says. With
 * `channels.requireLinked`, an unlinked account is refused and given a one-time link
 * instead: nobody approves from chat on a self-asserted mapping alone.
 */
export interface ChatIdentityGate {
  human(channel: ChatLink['channel'], chatUserId: string, mapped: () => Promise<DirectoryHuman>): Promise<DirectoryHuman>;
}

export function createChatIdentityGate(deps: {
  links: ChatLinkStore;
  humans: readonly DirectoryHuman[];
  requireLinked: boolean;
  clock: Clock;
  linkTtlMs: number;
  publicUrl(): string;
}): ChatIdentityGate {
  return {
    async human(channel, chatUserId, mapped) {
      const linked = await deps.links.linkedHuman(channel, chatUserId);
      if (linked !== undefined) {
        const h = deps.humans.find((x) => x.id.toLowerCase() === linked.toLowerCase());
        if (!h) throw new AppError('CHAT_USER_UNKNOWN', `This chat account is linked to ${linked}, who is no longer a configured reviewer`);
        return h;
      }
      if (!deps.requireLinked) return mapped();
      const code = randomBytes(32).toString('base64url');
      const now = deps.clock.now();
      await deps.links.offerLink(linkCodeHash(code), { channel, chatUserId, expiresAt: new Date(now.getTime() + deps.linkTtlMs).toISOString() }, now.toISOString());
      const minutes = Math.round(deps.linkTtlMs / 60_000);
      throw new AppError(
        'CHAT_NOT_LINKED',
        `Link this chat account to you first: open ${deps.publicUrl()}/console/link/${code} and sign in (the link works once, within ${minutes} minutes). Nothing was recorded.`,
      );
    },
  };
}
