/// <reference lib="dom" />
// The audit verification page: fetches the action's receipt and checks it here, in the browser.
import type { ReceiptLike } from './receipt-verify.js';
import { verifyReceipt } from './receipt-verify.js';

async function main(): Promise<void> {
  const box = document.getElementById('verify');
  const verdict = document.getElementById('verdict');
  const list = document.getElementById('checks');
  if (!box || !verdict || !list) return;
  const keys = (box.dataset.keys ?? '').split(' ').filter(Boolean);
  let receipt: ReceiptLike;
  try {
    const res = await fetch(box.dataset.receipt ?? '', { credentials: 'same-origin', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`the gateway answered ${res.status}`);
    receipt = (await res.json()) as ReceiptLike;
  } catch (e) {
    verdict.textContent = `Not verified: the receipt could not be fetched (${(e as Error).message}).`;
    verdict.className = 'verdict bad';
    return;
  }
  const r = await verifyReceipt(receipt, keys);
  for (const c of r.checks) {
    const li = document.createElement('li');
    li.textContent = `${c.ok ? '✓' : '✗'} ${c.text}`;
    li.className = c.ok ? 'ok' : 'bad';
    list.appendChild(li);
  }
  verdict.textContent = r.ok ? 'Verified: every entry of this action is in the signed log.' : 'Not verified: see the failed check below.';
  verdict.className = r.ok ? 'verdict ok' : 'verdict bad';
  box.dataset.result = r.ok ? 'verified' : 'failed';
}

void main();
