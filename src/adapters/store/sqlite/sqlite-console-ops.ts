import type { AuditDraft } from '../../../domain/audit-entry.js';
import type { ChatLink, ChatLinkOffer, ConsoleSession } from '../../../ports/console-sessions.js';
import { instantOf } from '../store-error.js';
import type { AuditTable } from './sqlite-audit.js';
import type { ConsoleTables } from './sqlite-console-tables.js';

/** The console's write operations; they join the registry in sqlite-write-ops.ts. */
export function createConsoleWriteOps(t: { console: ConsoleTables; audit: AuditTable }) {
  return {
    createSession({ session, tokenHash, drafts }: { session: ConsoleSession; tokenHash: string; drafts: readonly AuditDraft[] }): void {
      t.console.insertSession(session, tokenHash);
      if (drafts.length) t.audit.appendEntries(drafts);
    },
    touchSession({ id, at }: { id: string; at: string }): void {
      t.console.touch(id, instantOf(at, 'at'));
    },
    endSession({ id, at, reason, drafts }: { id: string; at: string; reason: string; drafts: readonly AuditDraft[] }): boolean {
      if (!t.console.end(id, instantOf(at, 'at'), reason)) return false;
      if (drafts.length) t.audit.appendEntries(drafts);
      return true;
    },
    offerLink({ codeHash, offer, createdAt }: { codeHash: string; offer: ChatLinkOffer; createdAt: string }): void {
      t.console.offer(codeHash, offer, instantOf(createdAt, 'createdAt'));
    },
    claimLink({ codeHash, human, at }: { codeHash: string; human: string; at: string }): ChatLink | undefined {
      const ms = instantOf(at, 'at');
      // Read and used in one transaction: a code binds once, even with two tabs racing.
      const offer = t.console.openOffer(codeHash, ms);
      if (!offer || !t.console.useOffer(codeHash, ms)) return undefined;
      const link: ChatLink = { channel: offer.channel, chatUserId: offer.chatUserId, human, linkedAt: at };
      const previous = t.console.linked(offer.channel, offer.chatUserId);
      t.console.bind(link);
      t.audit.appendEntries([
        {
          type: 'chat.identity.linked',
          ts: at,
          actor: { type: 'human', id: human },
          data: { channel: link.channel, chatUserId: link.chatUserId, human, ...(previous !== undefined && previous !== human ? { previous } : {}) },
        },
      ]);
      return link;
    },
  };
}
