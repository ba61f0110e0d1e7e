import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, screenshotPath, signIn, startConsoleEnv } from './console-harness.js';
import { runCli } from './harness.js';

const TTL_MS = 12_000;
let env: ConsoleEnv;
let browser: Browser;

beforeAll(async () => {
  env = await startConsoleEnv({ session: { ttl: '12s', idle: '30m' } });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

async function page(): Promise<Page> {
  return (await browser.newContext()).newPage();
}

const sessionCookie = async (p: Page) => (await p.context().cookies()).find((c) => c.name === 'cs_session');

describe('console sessions', () => {
  it('the session cookie is HttpOnly and SameSite=Lax, and holds no identity', async () => {
    const p = await page();
    await signIn(p, env.url, 'alice@example.com');
    const c = (await sessionCookie(p))!;
    expect(c).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(c.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(c.value).not.toContain('alice');
  });

  it('signing out ends the session here and at the IdP; the old cookie is refused afterwards', async () => {
    const p = await page();
    await signIn(p, env.url, 'dave@example.com');
    const cookie = (await sessionCookie(p))!;
    await p.getByRole('button', { name: 'Sign out' }).click();
    // RP-initiated logout: the IdP asks to confirm, then sends the browser back.
    await p.getByRole('button', { name: /Yes, sign me out/ }).click();
    await p.waitForURL(`${env.url}/console/signed-out`);
    expect(await p.locator('main').innerText()).toContain('You are signed out');
    expect(await sessionCookie(p)).toBeUndefined();

    // Signing in again needs the IdP's login form: its session ended too.
    await p.goto(`${env.url}/console/inbox`);
    expect(await p.locator('input[name="login"]').count()).toBe(1);

    // A copy of the old cookie is worthless.
    const replay = await browser.newContext();
    await replay.addCookies([{ name: cookie.name, value: cookie.value, url: env.url }]);
    const r = await replay.request.get(`${env.url}/console/inbox`, { maxRedirects: 0 });
    expect(r.status()).toBe(401);
    expect(await r.text()).toContain('Your session was ended');
  });

  it('`countersign sessions` lists active sessions and `sessions revoke` ends one at once, in the audit log', async () => {
    const p = await page();
    await signIn(p, env.url, 'bob@example.com');
    const list = await runCli(['sessions', '--config', env.ws.configPath, '--human', 'bob@example.com', '--json'], env.ws.env);
    expect(list.code).toBe(0);
    const ids = list.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string; human: string }).id);
    expect(ids.length).toBeGreaterThanOrEqual(1);
    const revoke = await runCli(['sessions', 'revoke', ids[0]!, '--config', env.ws.configPath, '--by', 'secops'], env.ws.env);
    expect(revoke.stdout).toContain(`revoked ${ids[0]} (bob@example.com)`);
    const r = await p.goto(`${env.url}/console/inbox`);
    expect(r!.status()).toBe(401);
    expect(await p.locator('main').innerText()).toMatch(/session was ended[\s\S]*CONSOLE_SESSION_ENDED/);
    const tail = await runCli(['audit', 'tail', '--config', env.ws.configPath, '-n', '50'], env.ws.env);
    expect(tail.stdout).toMatch(new RegExp(`console session ${ids[0]} of bob@example.com ended \\(revoked\\)`));
  });

  it('a session ends at its maximum length, and the page says so instead of signing in silently', async () => {
    const p = await page();
    await signIn(p, env.url, 'olga@example.com');
    const started = Date.now();
    expect(new URL(p.url()).pathname).toBe('/console/inbox');
    await new Promise((r) => setTimeout(r, Math.max(0, started + TTL_MS + 500 - Date.now())));
    const r = await p.goto(`${env.url}/console/inbox`);
    expect(r!.status()).toBe(401);
    expect(await p.locator('main').innerText()).toContain('Your session reached its maximum length');
    await p.screenshot({ path: screenshotPath('console-session-ended.png') });
  });
});
