// After a crash and a restart: recovery runs, then every promise is checked against
// what the counting target received, what the API acknowledged before the crash, and
// the audit log as the API serves it.
import { call } from '../lib/gateway.mjs';

const TERMINAL = new Set(['succeeded', 'failed', 'denied', 'expired', 'cancelled']);
const EXECUTED = new Set(['running', 'succeeded', 'failed']);

export async function checkRun({ url, secrets, ledger, target }) {
  const violations = [...ledger.violations.splice(0)];
  for (const e of ledger.serverErrors.splice(0)) violations.push({ type: 'serverError', detail: JSON.stringify(e) });
  const api = (path, o = {}) => call(url, path, { token: secrets.auditor, timeoutMs: 30_000, ...o });

  // Idempotent submissions that got no answer: the agent retries with the same key.
  for (const u of ledger.unanswered.splice(0)) {
    const res = await call(url, '/v1/actions', { method: 'POST', token: secrets.agent, body: u.body, headers: { 'idempotency-key': u.key } });
    if (res.status === 200 || res.status === 201) ledger.subs.set(u.nonce, { id: res.json.id, fingerprint: res.json.fingerprint, scenario: u.scenario, status: res.json.status, mode: res.json.mode });
    else violations.push({ type: 'otherFailures', detail: `retry of ${u.key} answered ${res.status}` });
  }

  // Recovery: nothing stays running, every approved execute-mode action gets run.
  const settled = await waitFor(async () => {
    const list = await listAll(api);
    return list.every((a) => a.status !== 'running' && !(a.status === 'approved' && a.mode === 'execute')) ? list : undefined;
  }, 20_000);
  const actions = settled ?? (await listAll(api));
  if (!settled) {
    for (const a of actions.filter((x) => x.status === 'running' || (x.status === 'approved' && x.mode === 'execute'))) {
      violations.push({ type: 'stuck', id: a.id, detail: `still ${a.status} 20 s after the restart` });
    }
  }

  // The audit log as served: contiguous sequence numbers, and each action's entry types.
  const entries = await readAudit(api);
  const types = new Map();
  entries.forEach((e, i) => {
    if (e.seq !== i) violations.push({ type: 'audit', detail: `sequence numbers not contiguous at ${i}: ${e.seq}` });
    const id = e.entry.actionId;
    if (id) (types.get(id) ?? types.set(id, []).get(id)).push(e.entry.type);
  });

  const byPath = new Map(actions.map((a) => [a.input.path, a]));
  let interruptedNew = 0;
  ledger.interrupted ??= new Set();
  for (const a of actions) {
    const calls = target.calls.get(`/api${a.input.path}`) ?? 0;
    const t = types.get(a.id) ?? [];
    if (calls > 1) violations.push({ type: 'double', id: a.id, detail: `the target received ${a.input.method} ${a.input.path} ${calls} times` });
    if (calls > 0) {
      const approved = a.decision.outcome === 'allow' || (a.decision.outcome === 'review' && a.review?.requirements.every((q) => q.approvedBy.length >= q.quorum));
      if (!approved || a.mode !== 'execute' || !EXECUTED.has(a.status) || !t.includes('execution.started')) {
        violations.push({ type: 'unapproved', id: a.id, detail: `executed while ${a.status} (${a.decision.outcome}, mode ${a.mode}, entries ${t.join(',')})` });
      }
    }
    if (a.result?.reason === 'interrupted' && !ledger.interrupted.has(a.id)) {
      ledger.interrupted.add(a.id);
      interruptedNew++;
      if (a.status !== 'failed') violations.push({ type: 'otherFailures', id: a.id, detail: `interrupted but ${a.status}` });
    }
    if (!t.includes('action.submitted') && !t.includes('action.created') && t.length === 0) {
      violations.push({ type: 'audit', id: a.id, detail: 'an action with no audit entry' });
    }
  }
  // Calls the target got that no stored action explains: an execution of something lost.
  for (const [path, n] of target.calls) {
    if (n > 0 && !byPath.has(path.replace(/^\/api/, ''))) violations.push({ type: 'unapproved', detail: `the target received ${path}, which no stored action explains` });
  }

  // Nothing the API acknowledged is lost.
  for (const [nonce, s] of ledger.subs) {
    const a = byPath.get(nonce);
    if (!a || a.id !== s.id || a.fingerprint !== s.fingerprint) {
      violations.push({ type: 'lost', id: s.id, detail: `acknowledged submission ${s.scenario} ${nonce} is ${a ? `now ${a.id}` : 'gone'}` });
      continue;
    }
    if (TERMINAL.has(s.status) && a.status !== s.status) violations.push({ type: 'lost', id: s.id, detail: `acknowledged as ${s.status}, stored as ${a.status}` });
  }
  const byId = new Map(actions.map((a) => [a.id, a]));
  for (const d of ledger.decisions) {
    const a = byId.get(d.id);
    const kept = a?.review?.reviews.some((x) => x.reviewer === d.reviewer && x.verdict === d.verdict);
    if (!kept) violations.push({ type: 'lost', id: d.id, detail: `acknowledged ${d.verdict} by ${d.reviewer} is not on record (${a?.status ?? 'no action'})` });
    if (d.status && TERMINAL.has(d.status) && a && a.status !== d.status) violations.push({ type: 'lost', id: d.id, detail: `decision acknowledged ${d.status}, stored ${a.status}` });
  }
  return { violations, interruptedNew, actions: actions.length, entries: entries.length };
}

async function listAll(api) {
  const out = [];
  let cursor;
  for (;;) {
    const res = await api(`/v1/actions?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (res.status !== 200) throw new Error(`listing actions answered ${res.status}: ${res.text.slice(0, 300)}`);
    out.push(...res.json.actions);
    if (!res.json.nextCursor) return out;
    cursor = res.json.nextCursor;
  }
}

async function readAudit(api) {
  const out = [];
  for (let start = 0; ; start += 1000) {
    const res = await api(`/v1/audit/entries?start=${start}&end=${start + 1000}`);
    if (res.status !== 200) throw new Error(`reading the audit log answered ${res.status}: ${res.text.slice(0, 300)}`);
    out.push(...res.json.entries);
    if (start + 1000 >= res.json.size) return out;
  }
}

async function waitFor(fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}
