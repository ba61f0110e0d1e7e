import { AxeBuilder } from '@axe-core/playwright';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../../src/client/types.js';
import type { ConsoleEnv } from './console-harness.js';
import { launchChromium, screenshotPath, signIn, startConsoleEnv } from './console-harness.js';

/*
 * Standing grants and batch decisions in the web console, in a real browser against a
 * real gateway process: approve and grant, the Grants page and its Revoke, and the
 * inbox's "Approve selected" (each action checked on its own).
 */

const POLICY = `
default: { outcome: allow }
rules:
  - id: exports
    match: { kind: http, target: github }
    when: http.method == "POST"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 30m, grants: { maxTtl: 1h, maxUses: 3, scope: [agent, target, http.method, http.path], paths: ["/v1/customers/*/export"] } }
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 30m, grants: { maxTtl: 1h, maxUses: 3, scope: [agent, target, http.method, http.path] } }
  - id: deletes
    match: { kind: http, target: github }
    when: http.method == "DELETE"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 30m }
`;

let env: ConsoleEnv;
let browser: Browser;
let alice: Page;

beforeAll(async () => {
  env = await startConsoleEnv({ policy: POLICY });
  browser = await launchChromium();
  alice = await (await browser.newContext()).newPage();
  await signIn(alice, env.url, 'alice@example.com');
});
afterAll(async () => {
  await browser?.close();
  await env?.close();
});

const agent = () => env.server.client(env.ws.tokens.agent);
const postTo = (path: string, token = env.ws.tokens.agent) => env.server.client(token).submit({ kind: 'http', target: 'github', input: { method: 'POST', path }, mode: 'decide' });
const exportOf = (customer: string) => postTo(`/v1/customers/${customer}/export`);

/** A pending POST; `/v1/reports/...` paths are outside the grant the first test creates. */
async function pending(path: string, token?: string): Promise<Action> {
  const a = await postTo(path, token);
  expect(a.status).toBe('pending');
  return a;
}

async function axe(page: Page): Promise<string[]> {
  const r = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Posts a form from the signed-in page, as a browser would (the session's CSRF token from the page's sign-out form). */
async function postForm(page: Page, action: string, fields: Record<string, string | string[]>): Promise<void> {
  const shown = page.waitForURL(`**${action}`);
  await page.evaluate(
    ([to, f]) => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = to;
      const csrf = document.querySelector<HTMLInputElement>('form.signout input[name="_csrf"]')!.value;
      for (const [k, vs] of Object.entries<string | string[]>({ _csrf: csrf, ...f })) {
        for (const v of typeof vs === 'string' ? [vs] : vs) {
          const i = document.createElement('input');
          i.type = 'hidden';
          i.name = k;
          i.value = v;
          form.append(i);
        }
      }
      document.body.append(form);
      form.submit();
    },
    [action, fields] as const,
  );
  await shown;
}

let grantId = '';

describe('console: standing grants', () => {
  it('approve and grant shows the scope and bounds, creates the grant, and the next matching action is allowed naming it', async () => {
    const a = await pending('/v1/customers/c1/export');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    const form = alice.locator('form.grant');
    expect(await alice.locator('#grant-scope').innerText()).toContain('http actions of deploy-bot on github that rule exports would send to review, with http.method = "POST", http.path = "/v1/customers/c1/export"');
    expect(await alice.locator('#grant-bounds').innerText()).toContain('at most 1h and 3 uses');
    expect(await alice.locator('#grant-ttl').inputValue()).toBe('1h');
    expect(await alice.locator('#grant-uses').inputValue()).toBe('3');
    expect(await form.innerText()).toContain('/v1/customers/*/export');
    expect(await axe(alice)).toEqual([]);
    await form.screenshot({ path: screenshotPath('console-grant-form.png') });

    await alice.locator('#grant-uses').fill('2');
    await alice.locator('#grant-path').fill('/v1/customers/*/export');
    await form.getByRole('button', { name: 'Approve and grant' }).click();
    await alice.waitForURL(`**/console/actions/${a.id}?done=grant`);
    expect(await alice.locator('#done').innerText()).toContain('Your approval and your grant were recorded');
    const created = await alice.locator('#grant-created').innerText();
    expect(created).toContain('http.path matching /v1/customers/*/export');

    const approved = await agent().get(a.id);
    expect(approved.status).toBe('approved');
    expect(approved.review!.reviews.map((r) => [r.reviewer, r.via])).toEqual([['alice@example.com', 'console']]);
    grantId = approved.grant!.id;
    expect(created).toContain(grantId);

    const next = await exportOf('c2');
    expect(next.status).toBe('approved');
    expect(next.decision.grant).toEqual({ id: grantId, use: 1, policyOutcome: 'review' });
    expect(next.decision.reason).toContain(`standing grant ${grantId}`);
  });

  it('a grant beyond the policy\'s bounds is refused, the page says why, and nothing is recorded', async () => {
    const a = await pending('/v1/customers/c5/report');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.locator('#grant-ttl').fill('2h');
    await alice.locator('form.grant').getByRole('button', { name: 'Approve and grant' }).click();
    await alice.waitForURL(`**/console/actions/${a.id}/review`);
    const alert = await alice.getByRole('alert').innerText();
    expect(alert).toContain('GRANT_OUT_OF_BOUNDS');
    expect(alert).toContain("ttl 2h exceeds the policy's maxTtl 1h");
    expect(await alice.getByRole('link', { name: 'Back to the action' }).getAttribute('href')).toBe(`/console/actions/${a.id}`);

    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.locator('#grant-path').fill('/v1/*/c5/report');
    await alice.locator('form.grant').getByRole('button', { name: 'Approve and grant' }).click();
    await alice.waitForURL(`**/console/actions/${a.id}/review`);
    expect(await alice.getByRole('alert').innerText()).toContain('GRANT_OUT_OF_BOUNDS');

    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.locator('#grant-path').fill('/v1/customers/*/export');
    await alice.locator('form.grant').getByRole('button', { name: 'Approve and grant' }).click();
    await alice.waitForURL(`**/console/actions/${a.id}/review`);
    expect(await alice.getByRole('alert').innerText()).toContain('GRANT_PATH_INVALID');

    const after = await agent().get(a.id);
    expect(after.status).toBe('pending');
    expect(after.review!.reviews).toEqual([]);
  });

  it('the agent\'s owner asking for a grant is refused for separation of duties, with the message shown', async () => {
    const a = await pending('/v1/reports/c6');
    const carol = await (await browser.newContext()).newPage();
    await signIn(carol, env.url, 'carol@example.com', `/console/actions/${a.id}`);
    expect(await carol.locator('form.grant').count()).toBe(0);
    await postForm(carol, `/console/actions/${a.id}/review`, { verdict: 'approve', fingerprint: a.fingerprint, grant: 'yes', grantTtl: '1h', grantUses: '3' });
    const alert = await carol.getByRole('alert').innerText();
    expect(alert).toContain('SELF_APPROVAL');
    expect(alert).toContain('Nothing was recorded');
    const after = await agent().get(a.id);
    expect(after.status).toBe('pending');
    expect(after.grant).toBeUndefined();
  });

  it('with a quorum of two, a grant needs both approvers to ask for it: one asking and one plainly approving approves the action and creates none', async () => {
    const put = () => agent().submit({ kind: 'http', target: 'github', input: { method: 'PUT', path: '/v1/releases/r1' }, mode: 'decide' });
    const a = await put();
    expect(a.status).toBe('pending');
    await alice.goto(`${env.url}/console/actions/${a.id}`);
    await alice.locator('form.grant').getByRole('button', { name: 'Approve and grant' }).click();
    await alice.waitForURL(`**/console/actions/${a.id}?done=grant`);
    expect(await alice.locator('#done').innerText()).toContain('The grant starts once the approval reaches its quorum');
    const dave = await (await browser.newContext()).newPage();
    await signIn(dave, env.url, 'dave@example.com', `/console/actions/${a.id}`);
    await dave.locator('form.decide').first().getByRole('button', { name: 'Approve', exact: true }).click();
    await dave.waitForURL(`**/console/actions/${a.id}?done=approve`);
    const after = await agent().get(a.id);
    expect(after.status).toBe('approved');
    expect(after.grant).toBeUndefined();
    expect(await dave.locator('#grant-created').count()).toBe(0);
    expect((await put()).status).toBe('pending');
  });

  it('the Grants page lists the grant with its uses left, and Revoke (after confirming) makes the next matching action go to review', async () => {
    await alice.goto(`${env.url}/console/grants`);
    expect(await alice.getByRole('link', { name: 'Grants' }).getAttribute('aria-current')).toBe('page');
    const row = alice.locator(`#grants-active tr[data-id="${grantId}"]`);
    const text = await row.innerText();
    expect(text).toContain('1 of 2');
    expect(text).toContain('alice@example.com');
    expect(text).toContain('/v1/customers/*/export');
    expect(await axe(alice)).toEqual([]);
    await alice.screenshot({ path: screenshotPath('console-grants.png'), fullPage: true });

    await row.getByRole('button', { name: `Revoke grant ${grantId}` }).click();
    await alice.waitForURL(`**/console/grants/${grantId}/revoke`);
    expect(await alice.locator('main').innerText()).toContain(`Revoke grant ${grantId}?`);
    expect(await axe(alice)).toEqual([]);
    // Not revoked until confirmed.
    expect((await exportOf('c3')).status).toBe('approved');
    await alice.getByLabel(/Reason/).fill('export window over');
    await alice.getByRole('button', { name: 'Revoke grant' }).click();
    await alice.waitForURL(`**/console/grants?revoked=${grantId}`);
    expect(await alice.locator('#done').innerText()).toContain('was revoked');
    const ended = await alice.locator(`#grants-ended tr[data-id="${grantId}"]`).innerText();
    expect(ended).toContain('revoked by alice@example.com');
    expect(ended).toContain('export window over');
    expect(await alice.locator(`#grants-active tr[data-id="${grantId}"]`).count()).toBe(0);

    expect((await exportOf('c4')).status).toBe('pending');
    const g = await env.server.client(env.ws.tokens.alice).grants.get(grantId);
    expect(g).toMatchObject({ status: 'revoked', revokedBy: 'alice@example.com', revokeReason: 'export window over', uses: 2 });
  });

  it('someone neither grantor, approver nor auditor sees no grant and cannot revoke one', async () => {
    const a = await pending('/v1/reports/c7');
    await env.server.client(env.ws.tokens.bob).approve(a.id, a.fingerprint, undefined, { grant: { ttl: '30m', uses: 1 } });
    const olga = await (await browser.newContext()).newPage();
    await signIn(olga, env.url, 'olga@example.com', '/console/grants');
    expect(await olga.locator('main').innerText()).not.toContain('grt_');
    const g = (await agent().get(a.id)).grant!;
    await postForm(olga, `/console/grants/${g.id}/revoke`, { confirm: 'yes' });
    // To her the grant does not exist, as on the Grants page and through the API.
    expect(await olga.getByRole('alert').innerText()).toContain('GRANT_NOT_FOUND');
    expect((await env.server.client(env.ws.tokens.olga).grants.list()).map((x) => x.id)).not.toContain(g.id);
    expect((await env.server.client(env.ws.tokens.bob).grants.get(g.id)).status).toBe('active');
  });
});

describe('console: batch decisions', () => {
  it('approving two selected actions where one is the reviewer\'s own: one approved, one refused SELF_APPROVAL, each its own audit entry', async () => {
    const theirs = await pending('/v1/reports/b1', env.ws.tokens.other); // other-bot, owned by olga
    const own = await pending('/v1/reports/b2'); // deploy-bot, owned by carol
    const carol = await (await browser.newContext()).newPage();
    await signIn(carol, env.url, 'carol@example.com');
    // The inbox offers carol only what she may decide...
    await expect.poll(() => carol.locator(`#inbox-rows tr[data-id="${theirs.id}"]`).count()).toBe(1);
    expect(await carol.locator(`#inbox-rows tr[data-id="${own.id}"]`).count()).toBe(0);
    expect(await axe(carol)).toEqual([]);
    await carol.locator(`#inbox-rows tr[data-id="${theirs.id}"] input[name="pick"]`).check();
    // ...and a forged selection of her own agent's action is checked on its own, and refused.
    await carol.evaluate(
      ([value]) => {
        const i = document.createElement('input');
        i.type = 'checkbox';
        i.name = 'pick';
        i.value = value;
        i.checked = true;
        i.setAttribute('form', 'batch');
        i.hidden = true;
        document.body.append(i);
      },
      [`${own.id}@${own.fingerprint}`] as const,
    );
    await carol.getByRole('button', { name: 'Approve selected' }).click();
    await carol.waitForURL('**/console/inbox/decide');
    expect(await carol.locator('#batch-summary').innerText()).toContain('1 of 2 approvals recorded; 1 refused');
    expect(await carol.locator(`#batch-results tr[data-id="${theirs.id}"]`).innerText()).toContain('Approved');
    const refused = await carol.locator(`#batch-results tr[data-id="${own.id}"]`).innerText();
    expect(refused).toContain('SELF_APPROVAL');
    expect(await axe(carol)).toEqual([]);
    await carol.screenshot({ path: screenshotPath('console-batch.png'), fullPage: true });

    const a1 = await agent().get(own.id);
    expect(a1.status).toBe('pending');
    expect(a1.review!.reviews).toEqual([]);
    const a2 = await env.server.client(env.ws.tokens.other).get(theirs.id);
    expect(a2.status).toBe('approved');
    expect(a2.review!.reviews.map((r) => [r.reviewer, r.via])).toEqual([['carol@example.com', 'console-batch']]);
  });

  it('each selected action is bound to the fingerprint its row showed; deny needs a comment', async () => {
    const a = await pending('/v1/reports/b3');
    const b = await pending('/v1/reports/b4');
    await alice.goto(`${env.url}/console/inbox`);
    for (const x of [a, b]) await alice.locator(`#inbox-rows tr[data-id="${x.id}"] input[name="pick"]`).check();
    await alice.getByRole('button', { name: 'Deny selected' }).click();
    await alice.waitForURL('**/console/inbox/decide');
    expect(await alice.getByRole('alert').innerText()).toContain('A denial needs a comment');
    expect((await agent().get(a.id)).status).toBe('pending');

    // b as another version than the one its row showed: refused; a is approved all the same.
    await alice.goto(`${env.url}/console/inbox`);
    await postForm(alice, '/console/inbox/decide', { verdict: 'approve', pick: [`${a.id}@${a.fingerprint}`, `${b.id}@sha256:${'0'.repeat(64)}`] });
    expect(await alice.locator(`#batch-results tr[data-id="${a.id}"]`).innerText()).toContain('Approved');
    expect(await alice.locator(`#batch-results tr[data-id="${b.id}"]`).innerText()).toContain('FINGERPRINT_MISMATCH');
    expect((await agent().get(a.id)).status).toBe('approved');
    expect((await agent().get(b.id)).status).toBe('pending');

    await alice.goto(`${env.url}/console/inbox`);
    await alice.locator(`#inbox-rows tr[data-id="${b.id}"] input[name="pick"]`).check();
    await alice.getByLabel(/Comment/).fill('not today');
    await alice.getByRole('button', { name: 'Deny selected' }).click();
    await alice.waitForURL('**/console/inbox/decide');
    expect(await alice.locator(`#batch-results tr[data-id="${b.id}"]`).innerText()).toContain('Denied');
    const denied = await agent().get(b.id);
    expect(denied.status).toBe('denied');
    expect(denied.review!.reviews.map((r) => [r.reviewer, r.verdict, r.comment, r.via])).toEqual([['alice@example.com', 'deny', 'not today', 'console-batch']]);
  });
});
