import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { verifySlackRequest } from '../adapters/channels/slack/slack-signature.js';
import type { SlackInteractions } from '../adapters/channels/slack/slack-interactions.js';
import { AppError } from '../domain/errors.js';

const FORM = 'application/x-www-form-urlencoded';

/**
 * POST /integrations/slack/interactions. Outside /v1's bearer auth: every request is
 * verified with the signing secret over its raw bytes (kept by this plugin's own
 * form parser), acknowledged at once, and worked on after the answer is sent.
 */
export function slackRoutes(deps: {
  /** The running config's Slack (a reload swaps it: a rotated signing secret applies to the next request); undefined when not configured. */
  current(): { signingSecret: string; interactions: SlackInteractions } | undefined;
  now(): number;
  logger: Logger;
  bodyLimit: number;
}) {
  return (app: FastifyInstance): void => {
    app.addContentTypeParser(FORM, { parseAs: 'buffer', bodyLimit: deps.bodyLimit }, (_req, body, done) => done(null, body));
    app.post(
      '/integrations/slack/interactions',
      { schema: { summary: 'Slack interactivity endpoint (buttons, modals); signed by Slack', tags: ['integrations'], security: [] } },
      async (req, reply) => {
        // One config for the whole request: the secret that verified it and the handler that acts on it.
        const slack = deps.current();
        if (!slack) throw new AppError('ROUTE_NOT_FOUND', 'Slack is not configured on this gateway');
        const raw = req.body;
        if (!Buffer.isBuffer(raw)) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Slack interactions are ${FORM}`);
        const timestamp = req.headers['x-slack-request-timestamp'];
        verifySlackRequest({ signingSecret: slack.signingSecret, rawBody: raw, timestamp, signature: req.headers['x-slack-signature'], nowMs: deps.now() });
        const text = new URLSearchParams(raw.toString('utf8')).get('payload');
        if (!text) throw new AppError('VALIDATION_FAILED', 'body: missing payload');
        let payload: unknown;
        try {
          payload = JSON.parse(text);
        } catch {
          throw new AppError('VALIDATION_FAILED', 'payload: not JSON');
        }
        // The same signed request again is the same interaction: a replay.
        const key = createHash('sha256').update(`${String(timestamp)}:`).update(raw).digest('hex');
        const ack = await slack.interactions.receive(payload, key);
        if (ack.after) {
          const after = ack.after;
          reply.raw.once('close', () => void after().catch((e: unknown) => deps.logger.error({ err: e }, 'slack interaction failed')));
        }
        return reply.status(200).send(ack.body ?? '');
      },
    );
  };
}
