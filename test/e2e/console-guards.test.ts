import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, screenshotPath, signIn, startConsoleEnv } from './console-harness.js';
import { runCli } from './harness.js';

let env: ConsoleEnv;
let browser: Browser;
let alice: Page;

beforeAll(async () => {
  env = await startConsoleEnv({ accounts: { 'bob@example.com': { groups: ['auditor'] } } });
  browser = await launchChromium();
  alice = await (await browser.newContext()).newPage();
  await signIn(alice, env.url, 'alice@example.com');
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

const agent = () => env.server.client(env.ws.tokens.agent);
const deploy = (n: string) => agent().submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: `/deploys/${n}`, body: { n } }, justification: `deploy ${n}` });
const STACK = /at .+\.(js|ts):\d+|node:internal|\n\s+at /;

describe('console: refusals', () => {
  it('a forged form without the CSRF token is refused and records nothing', async () => {
    const a = await deploy('csrf');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.evaluate(() => document.querySelector('form.decide input[name="_csrf"]')!.remove());
    await alice.getByRole('button', { name: 'Approve' }).click();
    await alice.waitForLoadState();
    expect(await alice.locator('main').innerText()).toMatch(/anti-forgery token[\s\S]*CSRF_INVALID/);
    expect((await agent().get(a.id)).review!.reviews).toEqual([]);
    // a wrong token (another session's) is refused too
    const r = await alice.request.post(`${env.url}/console/actions/${a.id}/review`, { form: { _csrf: 'x'.repeat(43), verdict: 'approve', fingerprint: a.fingerprint } });
    expect(r.status()).toBe(403);
    expect((await agent().get(a.id)).review!.reviews).toEqual([]);
  });

  it('a changed fingerprint is refused with a clear message and records nothing', async () => {
    const a = await deploy('fp');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.evaluate(() => {
      (document.querySelector('form.decide input[name="fingerprint"]') as HTMLInputElement).value = `sha256:${'0'.repeat(64)}`;
    });
    await alice.getByRole('button', { name: 'Approve' }).click();
    await alice.waitForLoadState();
    expect(await alice.locator('main').innerText()).toMatch(/The action changed since this page was shown: nothing was recorded[\s\S]*FINGERPRINT_MISMATCH/);
    expect((await agent().get(a.id)).review!.reviews).toEqual([]);
  });

  it('a decision on an action decided meanwhile elsewhere is refused and says so', async () => {
    const a = await deploy('raced');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    const cli = await runCli(['approve', a.id, '--yes', '--url', env.url], { COUNTERSIGN_TOKEN: env.ws.tokens.dave });
    expect(cli.code).toBe(0);
    await alice.getByRole('button', { name: 'Deny' }).click();
    await alice.waitForLoadState();
    expect(await alice.locator('main').innerText()).toMatch(/decided or expired meanwhile: nothing was recorded[\s\S]*NOT_PENDING/);
  });

  it('the inbox updates live when a request arrives and when it is approved from the CLI', async () => {
    await alice.goto(`${env.url}/console/inbox`);
    await alice.waitForSelector('body[data-live="connected"]');
    const a = await deploy('live');
    const row = alice.locator(`#inbox-rows tr[data-id="${a.id}"]`);
    await row.waitFor({ state: 'visible', timeout: 10_000 });
    const cli = await runCli(['approve', a.id, '--yes', '--url', env.url], { COUNTERSIGN_TOKEN: env.ws.tokens.dave });
    expect(cli.code).toBe(0);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    expect(await alice.locator('#live').innerText()).toContain('Inbox updated');
  });

  it('agent text is shown as untrusted text with control and bidi characters made visible', async () => {
    const a = await agent().submit({
      kind: 'http',
      target: 'github',
      input: { method: 'PUT', path: '/deploys/bidi', body: { file: 'safe \u202eexe.txt\u202c', html: '<script>alert(1)</script>' } },
      justification: 'routine\u200f deploy\u2028<img src=x onerror=alert(1)>',
    });
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    expect(await alice.getByLabel('Justification').innerText()).toBe('routine\\u200f deploy\\u2028<img src=x onerror=alert(1)>');
    const body = await alice.getByLabel('Request body').innerText();
    expect(body).toContain('safe \\u202eexe.txt\\u202c');
    expect(body).toContain('<script>alert(1)</script>');
    expect(await alice.locator('main script, main img').count()).toBe(0);
  });
});

describe('console: the in-browser audit check', () => {
  it('an action\'s inclusion proofs verify in the browser against the signed checkpoint, and a tampered proof does not', async () => {
    const a = await deploy('audited');
    await runCli(['approve', a.id, '--yes', '--url', env.url], { COUNTERSIGN_TOKEN: env.ws.tokens.dave });
    const page = alice;
    // The checkpoint is signed within a second (audit.checkpoints.maxDelay).
    let result: string | undefined;
    for (let i = 0; i < 20 && result !== 'verified'; i++) {
      await page.goto(`${env.url}/console/actions/${a.id}/verify`);
      await page.waitForSelector('#verify[data-result]');
      result = await page.getAttribute('#verify', 'data-result') ?? undefined;
      const text = await page.locator('#checks').innerText();
      if (result !== 'verified' && !/No signed checkpoint|newer/.test(text)) break;
      if (result !== 'verified') await new Promise((r) => setTimeout(r, 500));
    }
    expect(result).toBe('verified');
    expect(await page.locator('#verdict').innerText()).toContain('Verified');
    await page.screenshot({ path: screenshotPath('console-verify.png'), fullPage: true });

    await page.route('**/console/api/actions/*/receipt', async (route) => {
      const res = await route.fetch();
      const receipt = (await res.json()) as { entries: Array<{ proof: string[]; leafHash: string }> };
      const e = receipt.entries[0]!;
      if (e.proof.length) e.proof[0] = Buffer.alloc(32, 7).toString('base64');
      else e.leafHash = Buffer.alloc(32, 7).toString('base64');
      await route.fulfill({ response: res, json: receipt });
    });
    await page.goto(`${env.url}/console/actions/${a.id}/verify`);
    await page.waitForSelector('#verify[data-result]');
    expect(await page.getAttribute('#verify', 'data-result')).toBe('failed');
    expect(await page.locator('#verdict').innerText()).toContain('Not verified');
    expect(await page.locator('#checks').innerText()).toMatch(/✗ Entry \d+: (the inclusion proof does not lead to the checkpoint's root|its bytes do not hash)/);
    await page.unroute('**/console/api/actions/*/receipt');
  });
});

describe('console: bad input', () => {
  it('malformed ids, unknown parameters and oversize forms get clear pages or JSON errors, never a stack trace', async () => {
    const req = alice.request;
    const cases: Array<[string, Promise<{ status(): number; text(): Promise<string> }>, number, string]> = [
      ['malformed id', req.get(`${env.url}/console/actions/..%2F..%2Fetc`), 400, 'VALIDATION_FAILED'],
      ['unknown id', req.get(`${env.url}/console/actions/act_000000000000000000`), 404, 'NOT_FOUND'],
      ['unknown parameter', req.get(`${env.url}/console/inbox?sort=desc`), 400, 'VALIDATION_FAILED'],
      ['bad cursor', req.get(`${env.url}/console/inbox?before=yesterday`), 400, 'VALIDATION_FAILED'],
      ['bad history filter', req.get(`${env.url}/console/history?outcome=maybe`), 400, 'VALIDATION_FAILED'],
      ['unknown page', req.get(`${env.url}/console/nope`), 404, 'ROUTE_NOT_FOUND'],
      ['oversize form', req.post(`${env.url}/console/actions/act_000000000000000000/review`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: `comment=${'a'.repeat(40_000)}` }), 413, 'PAYLOAD_TOO_LARGE'],
      ['unknown form field', req.post(`${env.url}/console/actions/act_000000000000000000/review`, { form: { verdict: 'approve', fingerprint: `sha256:${'0'.repeat(64)}`, admin: 'true' } }), 400, 'VALIDATION_FAILED'],
      ['malformed form', req.post(`${env.url}/console/actions/act_000000000000000000/review`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, data: 'verdict=%ZZ' }), 400, 'VALIDATION_FAILED'],
    ];
    for (const [what, pending, status, code] of cases) {
      const r = await pending;
      const body = await r.text();
      expect([what, r.status()]).toEqual([what, status]);
      expect([what, body.includes(code)]).toEqual([what, true]);
      expect([what, STACK.test(body)]).toEqual([what, false]);
    }
    const api = await req.get(`${env.url}/console/api/actions/bad/receipt`);
    expect(api.status()).toBe(400);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });

  it('without a session, pages send to sign-in and the event stream and JSON answer 401', async () => {
    const anon = await browser.newContext();
    const page = await anon.request.get(`${env.url}/console/inbox`, { maxRedirects: 0 });
    expect(page.status()).toBe(303);
    expect(page.headers().location).toBe('/console/login?returnTo=%2Fconsole%2Finbox');
    const events = await anon.request.get(`${env.url}/console/events`);
    expect(events.status()).toBe(401);
    expect(((await events.json()) as { error: { code: string } }).error.code).toBe('CONSOLE_SIGNIN_REQUIRED');
    await anon.close();
  });

  it('a post-login return path that leaves the console is replaced by the inbox', async () => {
    const p = await (await browser.newContext()).newPage();
    await signIn(p, env.url, 'dave@example.com', '/console/login?returnTo=https%3A%2F%2Fevil.example%2Fconsole');
    expect(p.url()).toBe(`${env.url}/console/inbox`);
    const again = await (await browser.newContext()).newPage();
    await signIn(again, env.url, 'dave@example.com', '/console/login?returnTo=%2F%2Fevil.example%2Fconsole%2Finbox');
    expect(again.url()).toBe(`${env.url}/console/inbox`);
  });

  it('pages carry a strict CSP, frame-ancestors none, and load nothing inline or from another origin', async () => {
    const r = await alice.goto(`${env.url}/console/inbox`);
    const csp = r!.headers()['content-security-policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r!.headers()['x-frame-options']).toBe('DENY');
    const scripts = await alice.locator('script').evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).src));
    expect(scripts.length).toBeGreaterThan(0);
    for (const src of scripts) expect(src.startsWith(`${env.url}/console/assets/`)).toBe(true);
  });

  it('an unknown user signs in to an empty, read-only view that says why', async () => {
    const a = await deploy('unknown');
    const p = await (await browser.newContext()).newPage();
    await signIn(p, env.url, 'mallory@example.com');
    expect(await p.locator('main').innerText()).toContain('not a configured reviewer');
    expect(await p.locator('#inbox-rows tr[data-id]').count()).toBe(0);
    const detail = await p.goto(`${env.url}/console/actions/${a.id}`);
    expect(detail!.status()).toBe(404);
  });
});

describe('console: accessibility', () => {
  it('the inbox, detail, history and audit pages pass an axe-core scan, and a decision can be made by keyboard alone', async () => {
    const bob = await (await browser.newContext()).newPage();
    await signIn(bob, env.url, 'bob@example.com');
    const a = await deploy('a11y');
    for (const path of ['/console/inbox', `/console/actions/${a.id}`, '/console/history', '/console/audit', `/console/actions/${a.id}/verify`]) {
      await bob.goto(`${env.url}${path}`);
      const r = await new AxeBuilder({ page: bob }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
      expect([path, r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)]).toEqual([path, []]);
    }
    await bob.goto(`${env.url}/console/audit`);
    await bob.screenshot({ path: screenshotPath('console-audit.png') });
    await bob.goto(`${env.url}/console/history`);
    await bob.screenshot({ path: screenshotPath('console-history.png') });

    // Keyboard only: tab to the comment, type, tab to Approve, press Enter.
    await bob.goto(`${env.url}/console/actions/${a.id}`);
    await bob.locator('body').focus();
    for (let i = 0; i < 60; i++) {
      await bob.keyboard.press('Tab');
      if (await bob.evaluate(() => document.activeElement?.id === 'comment')) break;
    }
    await bob.keyboard.type('by keyboard');
    await bob.keyboard.press('Tab');
    expect(await bob.evaluate(() => document.activeElement?.textContent)).toBe('Approve');
    await bob.keyboard.press('Enter');
    await bob.waitForURL('**?done=approve');
    const after = await agent().get(a.id);
    expect(after.review!.reviews.map((r) => [r.reviewer, r.comment])).toEqual([['bob@example.com', 'by keyboard']]);
  });
});

describe('console: history', () => {
  it('lists decided actions with filters and pagination, each linking to its audit entries', async () => {
    await alice.goto(`${env.url}/console/history`);
    await alice.getByLabel('Outcome').selectOption('approved');
    await alice.getByLabel('Decider (email)').fill('dave@example.com');
    await alice.getByRole('button', { name: 'Filter' }).click();
    await alice.waitForURL(/outcome=approved/);
    const rows = alice.locator('#history tbody tr');
    const texts = await rows.allInnerTexts();
    expect(texts.length).toBeGreaterThanOrEqual(2);
    for (const t of texts) expect(t).toMatch(/(approved|running|succeeded|failed)\s+dave@example\.com \(approve\)/);
    expect(await rows.first().getByRole('link', { name: /Verify the audit entries/ }).count()).toBe(1);

    const none = await alice.request.get(`${env.url}/console/history?decider=nobody@example.com`);
    expect(await none.text()).toContain('No decided action matches');
    const future = await alice.request.get(`${env.url}/console/history?from=2999-01-01`);
    expect(await future.text()).toContain('No decided action matches');
  });
});
