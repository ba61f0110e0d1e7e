import type { SignedIn } from './console-sessions.js';
import type { Html } from './console-html.js';
import { html } from './console-html.js';

export interface PageInput {
  title: string;
  signedIn?: SignedIn | undefined;
  /** Which nav entry is current. */
  nav?: 'inbox' | 'history' | 'grants' | 'audit' | undefined;
  body: Html;
  /** Scripts served by the gateway (/console/assets/<name>), loaded as modules. */
  scripts?: string[];
  /** Whether the signed-in human may read the audit log (shows the nav entry). */
  auditor?: boolean;
}

function navLink(href: string, label: string, current: boolean): Html {
  return current ? html`<a href="${href}" aria-current="page">${label}</a>` : html`<a href="${href}">${label}</a>`;
}

/** Every console page: one stylesheet and module scripts from the gateway, nothing inline. */
export function page(p: PageInput): string {
  const s = p.signedIn;
  const header = s
    ? html`<header class="top">
  <a class="brand" href="/console/inbox">Countersign</a>
  <nav aria-label="Console">
    ${navLink('/console/inbox', 'Inbox', p.nav === 'inbox')}
    ${navLink('/console/history', 'History', p.nav === 'history')}
    ${navLink('/console/grants', 'Grants', p.nav === 'grants')}
    ${p.auditor ? navLink('/console/audit', 'Audit log', p.nav === 'audit') : ''}
  </nav>
  <form class="signout" method="post" action="/console/logout">
    <input type="hidden" name="_csrf" value="${s.csrf}">
    <span class="who">Signed in as <strong>${s.session.human}</strong></span>
    <button type="submit">Sign out</button>
  </form>
</header>`
    : html`<header class="top"><span class="brand">Countersign</span></header>`;
  const doc = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${p.title} · Countersign</title>
<link rel="stylesheet" href="/console/assets/console.css">
${(p.scripts ?? []).map((n) => html`<script type="module" src="/console/assets/${n}"></script>`)}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${header}
<main id="main" tabindex="-1">
<h1>${p.title}</h1>
${p.body}
</main>
</body>
</html>
`;
  return doc.value;
}

/** A page that says what went wrong and what to do, never a stack trace. */
export function errorPage(code: string, message: string, signedIn?: SignedIn, next?: { href: string; label: string }): string {
  return page({
    title: 'Not done',
    signedIn,
    body: html`<div class="notice error" role="alert"><p><strong>${message}</strong></p><p class="code">Error code: <code>${code}</code></p></div>
${next ? html`<p><a href="${next.href}">${next.label}</a></p>` : ''}`,
  });
}
