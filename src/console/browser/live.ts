/// <reference lib="dom" />
// Live updates over server-sent events: the inbox re-reads its rows; a detail page says
// when its action changed (a reload would throw away a comment being written).
const live = document.getElementById('live');

function connect(onAction: (e: { id: string; status: string }) => void): void {
  const source = new EventSource('/console/events');
  source.addEventListener('action', (ev) => {
    try {
      onAction(JSON.parse((ev as MessageEvent<string>).data) as { id: string; status: string });
    } catch {
      // a malformed event changes nothing
    }
  });
  source.addEventListener('open', () => document.body.setAttribute('data-live', 'connected'));
}

if (live?.dataset.live === 'action') {
  const id = live.dataset.id;
  connect((e) => {
    if (e.id !== id) return;
    live.textContent = '';
    const text = document.createTextNode(`This action changed (now ${e.status}). `);
    const a = document.createElement('a');
    a.href = location.pathname;
    a.textContent = 'Reload to see it';
    live.append(text, a);
    live.className = 'live changed';
  });
} else if (document.getElementById('inbox-rows')) {
  const rows = document.getElementById('inbox-rows')!;
  let pending: Promise<void> | undefined;
  let again = false;
  const refresh = async (): Promise<void> => {
    const res = await fetch(`/console/inbox/rows${location.search}`, { credentials: 'same-origin' });
    if (!res.ok) return;
    // Rows checked for a batch decision stay checked (same action, same fingerprint).
    const checked = new Set([...rows.querySelectorAll<HTMLInputElement>('input[name="pick"]:checked')].map((i) => i.value));
    // Server-rendered rows of this origin; scripts in them would not run (CSP).
    rows.innerHTML = await res.text();
    for (const i of rows.querySelectorAll<HTMLInputElement>('input[name="pick"]')) i.checked = checked.has(i.value);
    if (live) live.textContent = `Inbox updated at ${new Date().toLocaleTimeString()}.`;
  };
  connect(() => {
    if (pending) {
      again = true;
      return;
    }
    pending = refresh().finally(() => {
      pending = undefined;
      if (again) {
        again = false;
        void refresh();
      }
    });
  });
}
