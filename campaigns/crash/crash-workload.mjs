// The crash campaign's workload: `workers` agents and reviewers doing a random mix of
// submissions (allowed, denied, held for one or two approvers, expiring; execute and
// decide mode; inline ?wait; idempotent retries), approvals and denials, until the
// gateway dies. Only what the API acknowledged goes into the ledger.
import { call } from '../lib/gateway.mjs';
import { weighted } from '../lib/rng.mjs';

const SCENARIOS = [
  [4, 'allow'],
  [2, 'allow-inline'],
  [2, 'allow-idempotent'],
  [1, 'deny'],
  [3, 'review-one'],
  [2, 'review-two'],
  [1, 'review-deny'],
  [1, 'review-decide'],
  [1, 'expire'],
];

export async function driveWorkload({ urls, secrets, r, ledger, workers, until }) {
  let dead = false;
  void until.then(() => (dead = true));
  let acked = 0;
  // Replicas share the store: each call goes to the next one, so an action submitted
  // to one is approved, polled or retried on another.
  let next = 0;
  // Once the database connections were cut, a 503 STORAGE_ERROR is the promised answer
  // (fail closed, retry later), counted apart; any other 5xx is a violation.
  const serverError = (e) => {
    if (ledger.connectionsCut && e.status === 503 && e.body.includes('"STORAGE_ERROR"')) ledger.storageRefusals = (ledger.storageRefusals ?? 0) + 1;
    else ledger.serverErrors.push(e);
  };
  const api = (path, o) => call(urls[next++ % urls.length], path, { timeoutMs: 15_000, ...o });

  const submit = async (scenario, input, { mode, key, wait } = {}) => {
    const nonce = input.path;
    const body = { kind: 'http', target: 'api', input, ...(mode ? { mode } : {}) };
    let res;
    try {
      res = await api(`/v1/actions${wait ? `?wait=${wait}` : ''}`, { method: 'POST', token: secrets.agent, body, headers: key ? { 'idempotency-key': key } : {} });
    } catch {
      if (key) ledger.unanswered.push({ nonce, key, body, scenario });
      return undefined;
    }
    if (res.status !== 200 && res.status !== 201) {
      ledger.refusals = (ledger.refusals ?? 0) + 1;
      if (res.status >= 500) serverError({ scenario, status: res.status, body: res.text.slice(0, 300) });
      return undefined;
    }
    const a = res.json;
    ledger.subs.set(nonce, { id: a.id, fingerprint: a.fingerprint, scenario, status: a.status, mode: a.mode });
    acked++;
    return a;
  };

  const decide = async (token, reviewer, a, verdict) => {
    let res;
    try {
      res =
        verdict === 'approve'
          ? await api(`/v1/actions/${a.id}/approve`, { method: 'POST', token, body: { fingerprint: a.fingerprint } })
          : await api(`/v1/actions/${a.id}/deny`, { method: 'POST', token, body: { comment: 'no' } });
    } catch {
      return undefined;
    }
    if (res.status === 200) {
      ledger.decisions.push({ id: a.id, reviewer, verdict, status: res.json.status });
      acked++;
      return res.json;
    }
    if (res.status >= 500) serverError({ scenario: `decide-${verdict}`, status: res.status, body: res.text.slice(0, 300) });
    return undefined;
  };

  const one = async () => {
    const scenario = weighted(r, SCENARIOS);
    const nonce = r.hex(16);
    switch (scenario) {
      case 'allow':
        return submit(scenario, { method: 'GET', path: `/n/${nonce}` });
      case 'allow-inline':
        return submit(scenario, { method: 'GET', path: `/n/${nonce}` }, { wait: 5 });
      case 'allow-idempotent': {
        const key = `k-${nonce}`;
        const input = { method: 'GET', path: `/n/${nonce}` };
        const first = await submit(scenario, input, { key });
        if (!first || dead) return undefined;
        // The same key again is the same action, never a second execution.
        let again;
        try {
          again = await api('/v1/actions', { method: 'POST', token: secrets.agent, body: { kind: 'http', target: 'api', input }, headers: { 'idempotency-key': key } });
        } catch {
          return undefined;
        }
        if (again.status === 200 && again.json.id !== first.id) ledger.violations.push({ type: 'double', detail: `idempotency key ${key} answered ${first.id} then ${again.json.id}` });
        return again;
      }
      case 'deny':
        return submit(scenario, { method: 'DELETE', path: `/n/${nonce}` });
      case 'review-one':
      case 'review-decide': {
        const a = await submit(scenario, { method: 'POST', path: `/q1/${nonce}`, body: { n: nonce } }, scenario === 'review-decide' ? { mode: 'decide' } : {});
        if (!a || dead) return undefined;
        return decide(secrets.alice, 'alice@example.com', a, 'approve');
      }
      case 'review-deny': {
        const a = await submit(scenario, { method: 'POST', path: `/q1/${nonce}` });
        if (!a || dead) return undefined;
        return decide(secrets.bob, 'bob@example.com', a, 'deny');
      }
      case 'review-two': {
        const a = await submit(scenario, { method: 'POST', path: `/q2/${nonce}` });
        if (!a || dead) return undefined;
        return Promise.all([decide(secrets.alice, 'alice@example.com', a, 'approve'), decide(secrets.bob, 'bob@example.com', a, 'approve')]);
      }
      case 'expire': {
        const a = await submit(scenario, { method: 'PUT', path: `/x/${nonce}` });
        if (!a || dead || !r.chance(0.3)) return undefined;
        await new Promise((res) => setTimeout(res, 1100));
        if (dead) return undefined;
        // Late: the expiry may or may not have been recorded yet; either outcome is fine,
        // but once acknowledged, it must stick.
        return decide(secrets.alice, 'alice@example.com', a, 'approve');
      }
    }
    return undefined;
  };

  const worker = async () => {
    while (!dead) {
      try {
        await one();
      } catch {
        // the gateway died mid-call
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return acked;
}
