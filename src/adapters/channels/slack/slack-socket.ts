import { SocketModeClient } from '@slack/socket-mode';
import type { Logger } from 'pino';
import type { SlackInteractions } from './slack-interactions.js';

/**
 * Socket Mode, for workspaces without a public endpoint: the official client opens the
 * WebSocket (apps.connections.open with the app-level token, on the configured API URL)
 * and hands each interaction over. Its origin is the authenticated connection, so there
 * is no request signature; the team check and the replay check still apply.
 */
export async function startSlackSocketMode(opts: { appToken: string; apiUrl: string; interactions: SlackInteractions; logger: Logger }): Promise<{ close(): Promise<void> }> {
  const log = opts.logger;
  const client = new SocketModeClient({
    appToken: opts.appToken,
    clientOptions: { slackApiUrl: opts.apiUrl.endsWith('/') ? opts.apiUrl : `${opts.apiUrl}/` },
    logger: {
      debug: () => {},
      info: () => {},
      warn: (...m: unknown[]) => log.warn({ slack: m.map(String).join(' ') }, 'slack socket mode'),
      error: (...m: unknown[]) => log.warn({ slack: m.map(String).join(' ') }, 'slack socket mode'),
      setLevel: () => {},
      getLevel: () => 'warn' as never,
      setName: () => {},
    },
  });
  client.on('interactive', ({ body, ack, envelope_id }: { body: unknown; ack: (r?: unknown) => Promise<void>; envelope_id: string }) => {
    void (async () => {
      let after: (() => Promise<void>) | undefined;
      try {
        const r = await opts.interactions.receive(body, `socket:${envelope_id}`);
        after = r.after;
        await ack(r.body);
      } catch (e) {
        log.warn({ err: e }, 'slack socket mode: interaction refused');
        await ack().catch(() => {});
      }
      if (after) await after().catch((e: unknown) => log.error({ err: e }, 'slack socket mode: interaction failed'));
    })();
  });
  await client.start();
  log.info('slack socket mode connected');
  return {
    async close() {
      await client.disconnect().catch(() => {});
    },
  };
}
