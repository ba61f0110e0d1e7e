import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { ServerProcess, Workspace } from './harness.js';
import { startServer, startTarget, workspace } from './harness.js';

/** Debian's chromium, driven by playwright-core (no browser download), headless as root. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface Account {
  groups?: string[];
  emailVerified?: boolean;
}

export const CLIENT_ID = 'countersign-console';
export const CLIENT_SECRET = 'console-secret-0123456789abcdef';

/**
 * A real OpenID Provider (oidc-provider 9) in this process, on a real port. It runs on
 * `localhost` while the gateway runs on 127.0.0.1: two sites, as in production, so no
 * cookie is shared between them. Its development login form takes any login name.
 */
export async function startIdp(gatewayUrl: string, accounts: Record<string, Account>, clientJwk?: Record<string, unknown>): Promise<{ issuer: string; close(): Promise<void> }> {
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        redirect_uris: [`${gatewayUrl}/console/auth/callback`],
        post_logout_redirect_uris: [`${gatewayUrl}/console/signed-out`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        ...(clientJwk
          ? { token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'RS256', jwks: { keys: [clientJwk] } }
          : { token_endpoint_auth_method: 'client_secret_basic' }),
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    scopes: ['openid', 'email', 'groups'],
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    cookies: { keys: ['idp-cookie-key-for-tests-only'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600 },
    async findAccount(_ctx, id) {
      const a = accounts[id];
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: id, email_verified: a?.emailVerified ?? true, ...(a?.groups ? { groups: a.groups } : {}) };
        },
      };
    },
  });
  const server: Server = createServer(provider.callback());
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    issuer,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface ConsoleEnv {
  ws: Workspace;
  server: ServerProcess;
  idp: { issuer: string; close(): Promise<void> };
  target: Awaited<ReturnType<typeof startTarget>>;
  url: string;
  close(): Promise<void>;
}

export const CONSOLE_POLICY = `
default: { outcome: review, review: { approvers: [group:oncall], quorum: 1, timeout: 15m } }
rules:
  - id: releases
    match: { kind: http, target: github }
    when: http.method == "POST" && http.path.matches("^/repos/[^/]+/[^/]+/releases$")
    outcome: review
    review: { approvers: [group:release], quorum: 2, timeout: 30m }
  - id: deploys
    match: { kind: http, target: github }
    when: http.method == "PUT"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 30m }
  - id: escalating
    match: { kind: http, target: github }
    when: http.method == "PATCH"
    outcome: review
    review: { approvers: [group:release], quorum: 1, timeout: 1h, escalate: { after: 3s, to: [group:oncall] } }
`;

/** A gateway with the console on, signing in through a real IdP. */
export async function startConsoleEnv(opts: { session?: { ttl: string; idle: string }; accounts?: Record<string, Account>; extraConfig?: string; policy?: string; privateKeyJwt?: boolean } = {}): Promise<ConsoleEnv> {
  const target = await startTarget();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const key = opts.privateKeyJwt ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : undefined;
  const idp = await startIdp(url, opts.accounts ?? {}, key ? { ...key.publicKey.export({ format: 'jwk' }), kid: 'console-1', use: 'sig', alg: 'RS256' } : undefined);
  const session = opts.session ?? { ttl: '8h', idle: '30m' };
  const ws = workspace(target.url, {
    policy: opts.policy ?? CONSOLE_POLICY,
    extraConfig: `audit: { readerGroups: [auditor], checkpoints: { maxDelay: 1s } }
console:
  enabled: true
  oidc:
    issuer: ${idp.issuer}
    clientId: ${CLIENT_ID}
${key ? '    privateKeyJwt: { key: "${OIDC_PRIVATE_KEY}", alg: RS256, kid: console-1 }' : '    clientSecret: "${OIDC_CLIENT_SECRET}"'}
    scopes: [openid, email, groups]
    groupsClaim: groups
    emailClaim: email
  session: { ttl: ${session.ttl}, idle: ${session.idle} }
${opts.extraConfig ?? ''}`,
  });
  ws.env.OIDC_CLIENT_SECRET = CLIENT_SECRET;
  if (key) ws.env.OIDC_PRIVATE_KEY = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  writeFileSync(ws.configPath, readFileSync(ws.configPath, 'utf8').replace('listen: 127.0.0.1:0', `listen: 127.0.0.1:${port}`));
  const server = await startServer(ws);
  return {
    ws,
    server,
    idp,
    target,
    url,
    async close() {
      await server.stop();
      await idp.close();
      await target.close();
      ws.cleanup();
    },
  };
}

/** Signs in through the IdP's login and consent pages; ends on the console page asked for. */
export async function signIn(page: Page, url: string, email: string, path = '/console/inbox'): Promise<void> {
  await page.goto(`${url}${path}`);
  await page.locator('input[name="login"]').fill(email);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
  // First sign-in of this browser context: the IdP asks for consent once.
  await page.waitForURL((u) => u.href.startsWith(url) || u.pathname.includes('/interaction/'));
  if (!page.url().startsWith(url)) {
    await page.locator('button[type="submit"]').click();
    await page.waitForURL((u) => u.href.startsWith(url));
  }
}

/**
 * Where a docs screenshot goes: docs/img when `UPDATE_SCREENSHOTS=1` (to refresh the docs),
 * else a temp dir, so that `npm test` leaves the working tree as it found it.
 */
export function screenshotPath(name: string): string {
  if (process.env.UPDATE_SCREENSHOTS === '1') return `docs/img/${name}`;
  const dir = join(tmpdir(), 'countersign-screenshots');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
