import { randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockAction, signedInteraction, startSlackFake } from '../fakes/slack-fake.js';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, signIn, startConsoleEnv } from './console-harness.js';
import { runCli, until } from './harness.js';

const TEAM = 'TACME0001';
const CHANNEL = 'CREVIEWS01';
const ALICE = 'UALICE01';
const secrets = { bot: `xoxb-${randomBytes(12).toString('hex')}`, signing: randomBytes(16).toString('hex') };
let slack: Awaited<ReturnType<typeof startSlackFake>>;
let env: ConsoleEnv;
let browser: Browser;

beforeAll(async () => {
  slack = await startSlackFake({ token: secrets.bot, users: [{ id: ALICE, email: 'alice@example.com' }] });
  env = await startConsoleEnv({
    extraConfig: `channels:
  requireLinked: true
  slack: { botToken: "${secrets.bot}", signingSecret: "${secrets.signing}", teamId: ${TEAM}, channel: ${CHANNEL}, apiUrl: "${slack.apiUrl}" }
  delivery: { initialBackoff: 100ms, maxBackoff: 500ms, timeout: 2s, intervalMs: 100 }`,
  });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
  await slack?.close();
});

async function click(m: { ts: string }, value: string) {
  const signed = signedInteraction(blockAction({ team: TEAM, user: ALICE, channel: CHANNEL, messageTs: m.ts, actionId: 'countersign_approve', value }), secrets.signing);
  const res = await fetch(`${env.url}/integrations/slack/interactions`, { method: 'POST', headers: signed.headers, body: signed.body });
  expect(res.status).toBe(200);
}

async function nextEphemeral(since: number): Promise<string> {
  const e = await until(async () => slack.ephemerals.slice(since).find((x) => x.user === ALICE), (x) => !!x);
  return e?.text ?? '';
}

describe('chat identities verified through the IdP', () => {
  it('an unlinked Slack account gets a one-time link instead of a recorded click; signing in binds it, audited, and its next click counts', async () => {
    const a = await env.server.client(env.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/deploys/chat' }, justification: 'chat link' });
    const m = await until(async () => slack.posts().find((p) => p.channel === CHANNEL && JSON.stringify(p.blocks).includes(a.id)), (x) => !!x);
    // The message links to the console's detail page.
    expect(JSON.stringify(m!.blocks)).toContain(`${env.url}/console/actions/${a.id}`);
    const value = slack.buttons(m!).find((b) => b.action_id === 'countersign_approve')!.value;

    let since = slack.ephemerals.length;
    await click(m!, value);
    const refusal = await nextEphemeral(since);
    expect(refusal).toMatch(/CHAT_NOT_LINKED[\s\S]*Nothing was recorded/);
    expect((await env.server.client(env.ws.tokens.agent).get(a.id)).review!.reviews).toEqual([]);
    const link = /(http:\/\/\S+\/console\/link\/[A-Za-z0-9_-]{43})/.exec(refusal)![1]!;

    const page = await (await browser.newContext()).newPage();
    await signIn(page, env.url, 'alice@example.com', new URL(link).pathname);
    expect(await page.locator('main').innerText()).toContain(`Link the Slack account ${ALICE} to alice@example.com?`);
    await page.getByRole('button', { name: 'Link my Slack account' }).click();
    expect(await page.locator('main').innerText()).toContain('is now linked to alice@example.com');
    // The link works once.
    const again = await page.goto(link);
    expect(again!.status()).toBe(404);
    expect(await page.locator('main').innerText()).toContain('CHAT_LINK_INVALID');

    since = slack.ephemerals.length;
    await click(m!, value);
    expect(await nextEphemeral(since)).toContain('Recorded');
    const after = await env.server.client(env.ws.tokens.agent).get(a.id);
    expect(after.review!.reviews.map((r) => [r.reviewer, r.via])).toEqual([['alice@example.com', 'slack']]);

    const tail = await runCli(['audit', 'tail', '--config', env.ws.configPath, '-n', '100'], env.ws.env);
    expect(tail.stdout).toContain(`slack user ${ALICE} linked to alice@example.com`);
  });
});
