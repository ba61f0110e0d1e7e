/** The console's one stylesheet, served by the gateway (no CDN, no inline style). */
export const CONSOLE_CSS = `
:root { --fg: #1b1f24; --muted: #4a5360; --bg: #fff; --line: #d0d7de; --accent: #0a58ca; --ok: #1a7f37; --bad: #b42318; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, textarea:focus-visible, input:focus-visible, select:focus-visible, pre:focus-visible, main:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.skip { position: absolute; left: -9999px; top: 0; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 10; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
header.top { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 8px 24px; border-bottom: 1px solid var(--line); background: #f6f8fa; }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
nav a { margin-right: 12px; }
nav a[aria-current="page"] { font-weight: 700; text-decoration: none; color: var(--fg); }
.signout { margin-left: auto; display: flex; gap: 8px; align-items: center; }
main { padding: 16px 24px 48px; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: 8px 0 16px; }
h2 { font-size: 1.15rem; margin: 24px 0 8px; }
h3 { font-size: 1rem; margin: 16px 0 4px; }
table.list { border-collapse: collapse; width: 100%; }
table.list th, table.list td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.list th { background: #f6f8fa; }
td.empty { color: var(--muted); font-style: italic; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
dl.facts dt { font-weight: 600; }
dl.facts dd { margin: 0; }
pre.untrusted { background: #f6f8fa; border: 1px solid var(--line); border-left: 4px solid #9a6700; padding: 8px; overflow: auto; max-height: 480px; white-space: pre-wrap; word-break: break-word; }
span.untrusted { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; background: #f6f8fa; padding: 0 3px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
code.fingerprint { word-break: break-all; }
.notice { border: 1px solid var(--line); background: var(--warn-bg); padding: 8px 12px; border-radius: 4px; }
.notice.ok { background: #dafbe1; }
.notice.error { background: #ffebe9; }
.hint, .live { color: var(--muted); }
.live.changed { color: var(--fg); font-weight: 600; }
form.decide { border: 1px solid var(--line); padding: 12px; border-radius: 4px; max-width: 640px; }
form.decide label { display: block; font-weight: 600; margin: 8px 0 4px; }
textarea, input[type="text"], input[type="datetime-local"], select { width: 100%; font: inherit; padding: 6px; border: 1px solid #6e7781; border-radius: 4px; }
.buttons { display: flex; gap: 12px; margin-top: 12px; }
button { font: inherit; padding: 6px 16px; border-radius: 4px; border: 1px solid #6e7781; background: #f6f8fa; cursor: pointer; color: var(--fg); }
button.approve { background: var(--ok); color: #fff; border-color: var(--ok); }
button.deny { background: var(--bad); color: #fff; border-color: var(--bad); }
form.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); gap: 8px 16px; align-items: end; margin-bottom: 16px; }
form.filters label { display: block; font-weight: 600; }
.verdict { font-size: 1.1rem; font-weight: 700; }
.verdict.ok, li.ok { color: var(--ok); }
.verdict.bad, li.bad { color: var(--bad); }
form.inline { margin: 0; }
form.decide.grant, form.decide.batch { margin-top: 16px; }
input[type="number"] { width: 10em; font: inherit; padding: 6px; border: 1px solid #6e7781; border-radius: 4px; }
input[type="checkbox"] { width: 1.2em; height: 1.2em; }
p.scope { font-weight: 600; }
tr.bad td { color: var(--bad); }
pre.note { background: #f6f8fa; padding: 8px; overflow: auto; }
`;
