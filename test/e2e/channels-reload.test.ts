// Channels follow a config reload (SIGHUP and `countersign reload`) without a restart.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canary } from '../support/canaries.js';
import { blockAction, signedInteraction } from '../fakes/slack-fake.js';
import { startWebhookReceiver } from '../fakes/webhook-receiver.js';
import { runCli, until } from './harness.js';
import { CHANNEL, SLACK, TEAM, postSlack, slackPost, submitRelease, useChannelServer } from './channels-harness.js';

const rotated = canary('slack-signing-secret-rotated');
const newSecret = `whsec_${Buffer.from(canary('webhook-new-secret')).toString('base64')}`;
// Secrets come from the environment, as in production: the config file names them.
const ctx = useChannelServer({ env: { T_SLACK_SIGNING_NEXT: rotated, T_WH_ADDED: newSecret } });
let added: Awaited<ReturnType<typeof startWebhookReceiver>>;

beforeAll(async () => {
  added = await startWebhookReceiver(newSecret);
});
afterAll(() => added?.close());

const cliReload = () => runCli(['reload', '--pid', String(ctx.server.child.pid), '--config', ctx.ws.configPath], ctx.ws.env);
/** SIGHUP itself, then the outcome as the audit log records it. */
async function sighup(): Promise<{ type: string; data: Record<string, unknown> }> {
  const before = (await configEntries()).length;
  ctx.server.child.kill('SIGHUP');
  const after = await until(configEntries, (x) => x.length > before);
  return after.at(-1)!;
}
async function configEntries() {
  const r = await runCli(['audit', 'tail', '--db', join(ctx.ws.dir, 'countersign.db'), '-n', '500', '--json']);
  return r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { type: string; data: Record<string, unknown> })
    .filter((e) => e.type.startsWith('config.'));
}
const config = () => readFileSync(ctx.ws.configPath, 'utf8');
const click = (secret: string, m: { ts: string }, value: string) =>
  signedInteraction(blockAction({ team: TEAM, user: SLACK.alice, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value }), secret);
const approveValue = (m: Parameters<typeof ctx.slack.buttons>[0]) => ctx.slack.buttons(m).find((b) => b.action_id === 'countersign_approve')!.value;
const deliveries = async (channel: string) => {
  const r = await fetch(`${ctx.server.url}/v1/deliveries?channel=${encodeURIComponent(channel)}&limit=100`, { headers: { authorization: `Bearer ${ctx.ws.tokens.carol}` } });
  return ((await r.json()) as { deliveries: Array<{ status: string; lastError?: string; actionId: string }> }).deliveries;
};

describe('reloading channels without a restart', () => {
  it('a webhook added by `countersign reload` receives the next review, signed with its secret', async () => {
    writeFileSync(
      ctx.ws.configPath,
      config().replace('  delivery:', `    - { name: added, url: "${added.url}/hook", secret: "\${T_WH_ADDED}", events: [action.pending] }\n  delivery:`),
    );
    const r = await cliReload();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('reloaded: channels');
    const a = await submitRelease(ctx);
    const got = await until(async () => added.received.filter((x) => (x.body.data as { actionId: string }).actionId === a.id), (x) => x.length === 1);
    expect(got).toEqual([expect.objectContaining({ type: 'action.pending', verified: true })]);
    expect((await configEntries()).at(-1)).toMatchObject({ type: 'config.loaded', data: { changed: ['channels'], channels: { added: ['webhook:added'], removed: [], changed: [] } } });
  });

  it('a webhook removed by SIGHUP receives nothing more, and its pending deliveries are cancelled with the reload entry', async () => {
    // The pager is failing: the pending event for this review waits for its retry.
    ctx.hooks.pager.control.failNext = 1000;
    const stuck = await submitRelease(ctx);
    await until(() => deliveries('webhook:pager'), (d) => d.some((x) => x.actionId === stuck.id && x.status === 'pending'));
    writeFileSync(ctx.ws.configPath, config().replace(/ {4}- \{ name: pager, .*\n/, ''));
    const entry = await sighup();
    expect(entry).toMatchObject({ type: 'config.loaded', data: { trigger: 'sighup', channels: { removed: ['webhook:pager'] } } });
    expect(entry.data.cancelledDeliveries).toBeGreaterThanOrEqual(1);
    const cancelled = (await deliveries('webhook:pager')).find((x) => x.actionId === stuck.id)!;
    expect(cancelled.status).toBe('dead');
    expect(cancelled.lastError).toContain('removed by a config reload');

    ctx.hooks.pager.control.failNext = 0;
    const before = ctx.hooks.pager.received.length;
    const next = await submitRelease(ctx);
    // The other webhook gets the new review; by then the removed one would have had it too.
    await until(async () => ctx.hooks.all.types(next.id), (t) => t.includes('action.pending'));
    await until(async () => ctx.hooks.all.types(stuck.id), (t) => t.length > 0);
    expect(ctx.hooks.pager.received.slice(before)).toEqual([]);
    expect(await deliveries('webhook:pager')).not.toContainEqual(expect.objectContaining({ actionId: next.id }));
  });

  it('a rotated Slack signing secret: after the reload the old signature is refused and the new one accepted', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    expect(config()).toContain('signingSecret: "${T_SLACK_SIGNING}"');
    writeFileSync(ctx.ws.configPath, config().replace('signingSecret: "${T_SLACK_SIGNING}"', 'signingSecret: "${T_SLACK_SIGNING_NEXT}"'));
    const r = await cliReload();
    expect(r.code).toBe(0);
    expect((await configEntries()).at(-1)).toMatchObject({ data: { channels: { changed: ['slack'] } } });
    const old = await postSlack(ctx, click(ctx.secrets.slackSigning, m, approveValue(m)));
    expect(old.status).toBe(401);
    expect(old.json).toMatchObject({ error: { code: 'SLACK_SIGNATURE_INVALID' } });
    expect((await ctx.server.client(ctx.ws.tokens.alice).get(a.id)).review?.approvals).toEqual([]);
    const fresh = await postSlack(ctx, click(rotated, m, approveValue(m)));
    expect(fresh.status).toBe(200);
    const after = await until(() => ctx.server.client(ctx.ws.tokens.alice).get(a.id), (x) => x.review?.approvals.length === 1);
    expect(after.review?.approvals.map((x) => [x.reviewer, x.via])).toEqual([['alice@example.com', 'slack']]);
  });

  it('a broken channel config is refused, recorded, and the running channels keep working', async () => {
    const good = config();
    writeFileSync(ctx.ws.configPath, good.replace('secret: "${T_WH_ADDED}"', 'secret: "whsec_tooshort"'));
    const r = await cliReload();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('reload refused; the running config is kept');
    expect(r.stderr).toContain('channels.webhooks');
    expect((await configEntries()).at(-1)).toMatchObject({ type: 'config.rejected', data: { trigger: 'sighup' } });
    // Still the running set: the added webhook gets the next review, the rotated secret still verifies.
    const a = await submitRelease(ctx);
    await until(async () => added.received.filter((x) => (x.body.data as { actionId: string }).actionId === a.id), (x) => x.length === 1);
    const m = await slackPost(ctx, a.id);
    expect((await postSlack(ctx, click(rotated, m, approveValue(m)))).status).toBe(200);
    writeFileSync(ctx.ws.configPath, good);
  });

  it('Slack removed by a reload: its endpoint answers 404, and the reload entry names it removed', async () => {
    const a = await submitRelease(ctx);
    const m = await slackPost(ctx, a.id);
    writeFileSync(ctx.ws.configPath, config().replace(/ {2}slack: \{.*\n/, ''));
    expect((await cliReload()).code).toBe(0);
    const r = await postSlack(ctx, click(rotated, m, approveValue(m)));
    expect(r.status).toBe(404);
    expect((await configEntries()).at(-1)).toMatchObject({ data: { channels: { removed: ['slack'] } } });
  });
});
