import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, screenshotPath, signIn, startConsoleEnv } from './console-harness.js';

let env: ConsoleEnv;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  env = await startConsoleEnv({ accounts: { 'bob@example.com': { groups: ['sre'] } } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

async function newPage(): Promise<Page> {
  const c = await browser.newContext();
  contexts.push(c);
  return c.newPage();
}

const release = (tag: string) => ({ kind: 'http' as const, target: 'github', input: { method: 'POST' as const, path: '/repos/acme/app/releases', body: { tag } }, justification: `ship ${tag}` });

describe('console: sign in, inbox, decide', () => {
  it('an approver signs in through the IdP, sees the request in the inbox, and a second approver completes the quorum of two', async () => {
    const agent = env.server.client(env.ws.tokens.agent);
    const submitted = await agent.submit(release('v1.0.0'));
    expect(submitted.status).toBe('pending');

    const alice = await newPage();
    await signIn(alice, env.url, 'alice@example.com');
    expect(new URL(alice.url()).pathname).toBe('/console/inbox');
    const row = alice.locator(`#inbox-rows tr[data-id="${submitted.id}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.innerText()).toContain('POST /repos/acme/app/releases');
    expect(await row.innerText()).toContain('deploy-bot');
    await alice.screenshot({ path: screenshotPath('console-inbox.png'), fullPage: true });

    await row.locator('a').click();
    await alice.waitForURL(`**/console/actions/${submitted.id}`);
    const main = alice.locator('main');
    expect(await main.innerText()).toContain('ship v1.0.0');
    expect(await main.innerText()).toContain(submitted.fingerprint);
    expect(await main.innerText()).toContain('carol@example.com');
    await alice.screenshot({ path: screenshotPath('console-detail.png'), fullPage: true });
    await alice.getByLabel(/Comment/).fill('looks right');
    await alice.getByRole('button', { name: 'Approve' }).click();
    await alice.waitForURL(`**/console/actions/${submitted.id}?done=approve`);
    expect(await alice.locator('#done').innerText()).toContain('Your approval was recorded');
    expect((await agent.get(submitted.id)).status).toBe('pending');

    const bob = await newPage();
    await signIn(bob, env.url, 'bob@example.com', `/console/actions/${submitted.id}`);
    expect(new URL(bob.url()).pathname).toBe(`/console/actions/${submitted.id}`);
    expect(await bob.locator('main').innerText()).toContain('Approved by alice@example.com via console');
    await bob.getByRole('button', { name: 'Approve' }).click();
    await bob.waitForURL(`**?done=approve`);
    const after = await agent.get(submitted.id);
    expect(['approved', 'running', 'succeeded']).toContain(after.status);
    expect(after.review!.reviews.map((r) => [r.reviewer, r.via])).toEqual([
      ['alice@example.com', 'console'],
      ['bob@example.com', 'console'],
    ]);
  });

  it('an escalation target finds the request in the inbox once it escalates, and not before', async () => {
    const olga = await newPage();
    await signIn(olga, env.url, 'olga@example.com');
    const a = await env.server.client(env.ws.tokens.agent).submit({ kind: 'http', target: 'github', input: { method: 'PATCH', path: '/repos/acme/app' }, justification: 'rename' });
    const rows = () => olga.request.get(`${env.url}/console/inbox/rows`).then((r) => r.text());
    expect(await rows()).not.toContain(a.id);
    await expect.poll(rows, { timeout: 15_000, interval: 250 }).toContain(a.id);
    await olga.goto(`${env.url}/console/actions/${a.id}`);
    expect(await olga.locator('main').innerText()).toContain('escalated to group:oncall');
    await olga.getByRole('button', { name: 'Approve' }).click();
    await olga.waitForURL('**?done=approve');
  });

  it('the agent\'s owner sees the request but no buttons, and the page says why', async () => {
    const agent = env.server.client(env.ws.tokens.agent);
    const a = await agent.submit(release('v1.0.1'));
    const carol = await newPage();
    await signIn(carol, env.url, 'carol@example.com', `/console/actions/${a.id}`);
    expect(await carol.locator('form.decide').count()).toBe(0);
    expect(await carol.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await carol.locator('#no-decision').innerText()).toMatch(/separation of duties[\s\S]*SELF_APPROVAL/);
    // and the inbox does not offer it to her
    await carol.goto(`${env.url}/console/inbox`);
    expect(await carol.locator(`#inbox-rows tr[data-id="${a.id}"]`).count()).toBe(0);
  });
});
