import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, signIn, startConsoleEnv } from './console-harness.js';

let env: ConsoleEnv;
let browser: Browser;

beforeAll(async () => {
  env = await startConsoleEnv({ privateKeyJwt: true });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

describe('console sign-in with private_key_jwt', () => {
  it('the console authenticates to the token endpoint with a signed client assertion instead of a secret', async () => {
    const page = await (await browser.newContext()).newPage();
    await signIn(page, env.url, 'alice@example.com');
    expect(new URL(page.url()).pathname).toBe('/console/inbox');
    expect(await page.locator('header').innerText()).toContain('alice@example.com');
  });
});
