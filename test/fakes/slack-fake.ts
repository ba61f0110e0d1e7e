import { createHmac, randomBytes } from 'node:crypto';
import { json, startHttpFake } from './http-fake.js';

/**
 * A fake of the Slack Web API (https://api.slack.com/methods), for the methods
 * Countersign calls: chat.postMessage, chat.update, chat.postEphemeral, users.info,
 * views.open, and apps.connections.open for Socket Mode (see slack-socket-fake.ts). Requests are form-encoded with a bearer token, as the official SDK sends
 * them; answers follow the documented shapes (`{ok: true, ...}` or `{ok: false, error}`).
 * Interactions are built and signed as Slack signs them (v0 HMAC-SHA256).
 */

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Array<Record<string, unknown>>;
  threadTs?: string;
  updates: number;
}

export interface SlackUser {
  id: string;
  email?: string;
  isBot?: boolean;
}

export async function startSlackFake(opts: { token: string; users: SlackUser[]; socketMode?: { appToken: string; url(): string } }) {
  const messages: SlackMessage[] = [];
  const ephemerals: Array<{ channel: string; user: string; text: string }> = [];
  const views: Array<{ triggerId: string; view: Record<string, unknown> }> = [];
  const calls: string[] = [];
  let seq = 0;
  const dmChannel = (user: string) => `D${user.slice(1)}`;

  const fake = await startHttpFake((r, res) => {
    const method = r.path.replace(/^\/api\//, '').split('?')[0]!;
    calls.push(method);
    if (method === 'apps.connections.open') {
      // Socket Mode: the app-level token, not the bot token.
      if (!opts.socketMode || r.headers.authorization !== `Bearer ${opts.socketMode.appToken}`) return json(res, 200, { ok: false, error: 'invalid_auth' });
      return json(res, 200, { ok: true, url: opts.socketMode.url() });
    }
    if (r.headers.authorization !== `Bearer ${opts.token}`) return json(res, 200, { ok: false, error: 'invalid_auth' });
    const form = new URLSearchParams(r.body);
    const arg = (k: string) => form.get(k) ?? undefined;
    switch (method) {
      case 'chat.postMessage': {
        const channel = arg('channel');
        if (!channel || !arg('text')) return json(res, 200, { ok: false, error: channel ? 'no_text' : 'channel_not_found' });
        const ts = `${1700000000 + ++seq}.${String(seq).padStart(6, '0')}`;
        const target = channel.startsWith('U') ? dmChannel(channel) : channel;
        const m: SlackMessage = { channel: target, ts, text: arg('text')!, blocks: JSON.parse(arg('blocks') ?? '[]') as SlackMessage['blocks'], updates: 0 };
        const thread = arg('thread_ts');
        if (thread) m.threadTs = thread;
        messages.push(m);
        return json(res, 200, { ok: true, channel: target, ts, message: { text: m.text } });
      }
      case 'chat.update': {
        const m = messages.find((x) => x.channel === arg('channel') && x.ts === arg('ts'));
        if (!m) return json(res, 200, { ok: false, error: 'message_not_found' });
        m.text = arg('text') ?? m.text;
        m.blocks = JSON.parse(arg('blocks') ?? '[]') as SlackMessage['blocks'];
        m.updates++;
        return json(res, 200, { ok: true, channel: m.channel, ts: m.ts });
      }
      case 'chat.postEphemeral':
        ephemerals.push({ channel: arg('channel') ?? '', user: arg('user') ?? '', text: arg('text') ?? '' });
        return json(res, 200, { ok: true, message_ts: `${Date.now() / 1000}` });
      case 'users.info': {
        const u = opts.users.find((x) => x.id === arg('user'));
        if (!u) return json(res, 200, { ok: false, error: 'user_not_found' });
        return json(res, 200, { ok: true, user: { id: u.id, deleted: false, is_bot: !!u.isBot, profile: u.email ? { email: u.email } : {} } });
      }
      case 'views.open':
        views.push({ triggerId: arg('trigger_id') ?? '', view: JSON.parse(arg('view') ?? '{}') as Record<string, unknown> });
        return json(res, 200, { ok: true, view: { id: `V${++seq}` } });
      default:
        return json(res, 200, { ok: false, error: 'unknown_method' });
    }
  });

  return {
    ...fake,
    apiUrl: `${fake.url}/api/`,
    messages,
    ephemerals,
    views,
    calls,
    /** Top-level review messages (not thread replies). */
    posts: () => messages.filter((m) => !m.threadTs),
    replies: (ts: string) => messages.filter((m) => m.threadTs === ts),
    /** The button values of a message (empty once the action is closed). */
    buttons(m: SlackMessage): Array<{ action_id: string; value: string }> {
      const actions = m.blocks.find((b) => b.type === 'actions') as { elements?: Array<{ action_id: string; value: string }> } | undefined;
      return actions?.elements ?? [];
    },
  };
}

export type SlackFake = Awaited<ReturnType<typeof startSlackFake>>;

/** A form body and headers exactly as Slack sends an interaction, signed with `secret` at `timestamp`. */
export function signedInteraction(payload: Record<string, unknown>, secret: string, timestamp = Math.floor(Date.now() / 1000)) {
  const body = `payload=${encodeURIComponent(JSON.stringify(payload))}`;
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature },
  };
}

/** A `block_actions` payload for a click on one of the message's buttons. */
export function blockAction(a: { team: string; user: string; channel: string; messageTs: string; actionId: string; value: string }) {
  return {
    type: 'block_actions',
    team: { id: a.team, domain: 'acme' },
    user: { id: a.user, team_id: a.team },
    api_app_id: 'A0123',
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    container: { type: 'message', message_ts: a.messageTs, channel_id: a.channel },
    channel: { id: a.channel },
    message: { ts: a.messageTs },
    actions: [{ type: 'button', block_id: 'countersign_review', action_id: a.actionId, value: a.value, action_ts: `${Date.now() / 1000}` }],
  };
}

/** A `view_submission` payload for the deny modal. */
export function denySubmission(a: { team: string; user: string; view: Record<string, unknown>; reason: string }) {
  return {
    type: 'view_submission',
    team: { id: a.team, domain: 'acme' },
    user: { id: a.user, team_id: a.team },
    trigger_id: `${Date.now()}.${randomBytes(6).toString('hex')}`,
    view: { ...a.view, id: 'V1', state: { values: { reason: { reason: { type: 'plain_text_input', value: a.reason } } } } },
  };
}
