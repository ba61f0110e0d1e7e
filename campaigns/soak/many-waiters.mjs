// Many waiters (docs/reliability.md, "Soak and many waiters"): N agents waiting on
// actions held for review at once, then all approved in bulk.
//
// Phases, each timed, with the worst event-loop stall, the gateway's CPU time and its
// RSS at the end:
//   submit   the HTTP actions held for review (decide mode), --concurrency at a time,
//            each with an Idempotency-Key so that a retry never submits twice;
//   open     the waiters: long polls (GET ?wait) and MCP holds (tools/call), opened
//            --open-chunk at a time, one chunk every --open-chunk ms (1,000 a second):
//            ten thousand connections at once overflow the listen backlog, which is
//            the kernel's limit, not the gateway's; and a burst of N requests arriving
//            together is one turn of the event loop of N requests, a stall the
//            campaign would have made itself;
//   held     until the gateway holds every MCP call (their actions are pending), found
//            as a reviewer finds them (GET /v1/actions?status=pending, paged);
//   waiting  a few seconds with everybody waiting: the memory figures (with
//            --heap-snapshot, a heap snapshot, to compare with heap-diff.mjs with the
//            one taken before the waiters opened);
//   approve  the batch decision API (POST /v1/reviews, 100 actions a request,
//            --approve-concurrency requests at a time);
//   answer   until every waiter has its answer.
//
// The campaign retries its own calls when the failure is clearly the client's side or
// the connection's (reset, refused, a submission timing out: it carries its key), never
// an answer the gateway gave; every retry and every failure is recorded with its reason.
import { call } from '../lib/gateway.mjs';

/** Network errors worth a retry: the request never got an HTTP answer. */
const RETRYABLE = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

function reasonOf(e) {
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'client timeout';
  return String(e?.cause?.code ?? e?.code ?? e?.cause?.message ?? e?.message ?? e);
}

export async function manyWaiters({ gw, secrets, args, counters, sample, phases, say, takeHeapSnapshot }) {
  const n = args.waiters;
  const mcpN = Math.round(n * args.mcpShare);
  const httpN = n - mcpN;
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  /** Every failure: its phase, what failed, why. */
  const failures = [];
  const retries = {};
  const fail = (what, reason) => {
    counters.errors++;
    failures.push({ phase: phases.current, what, reason: String(reason).slice(0, 300) });
  };
  /** Runs `fn` again while it fails for a reason that is the client's or the connection's. */
  async function retrying(what, fn, { attempts = 6, retryTimeouts = false } = {}) {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        const reason = reasonOf(e);
        const retryable = RETRYABLE.has(reason) || (retryTimeouts && reason === 'client timeout') || reason === 'fetch failed';
        if (!retryable || attempt >= attempts) throw e;
        retries[reason] = (retries[reason] ?? 0) + 1;
        await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** attempt)));
      }
    }
  }
  const sampler = setInterval(() => void sample(), 1000);

  // submit
  await phases.enter('submit');
  const held = new Array(httpN);
  let nextSubmit = 0;
  await Promise.all(
    Array.from({ length: Math.min(args.concurrency, httpN) }, async () => {
      while (nextSubmit < httpN) {
        const i = nextSubmit++;
        try {
          // Decide mode: the bulk approval measures waking the waiters, not N executions.
          const r = await retrying(
            `submit ${i}`,
            () =>
              call(gw.url, '/v1/actions', {
                method: 'POST',
                token: secrets.agent,
                headers: { 'idempotency-key': `waiter-${runId}-${i}` },
                body: { kind: 'http', target: 'api', input: { method: 'POST', path: `/hold/${i}` }, mode: 'decide' },
                timeoutMs: args.callTimeoutMs,
              }),
            { retryTimeouts: true },
          );
          if ((r.status === 201 || r.status === 200) && r.json?.status === 'pending') held[i] = r.json;
          else fail(`submit ${i}`, `${r.status} ${r.text.slice(0, 200)}`);
        } catch (e) {
          fail(`submit ${i}`, reasonOf(e));
        }
      }
    }),
  );
  const heldHttp = held.filter(Boolean);
  say(`submit: ${heldHttp.length} HTTP actions held in ${Date.now() - phases.startedAt()} ms`);

  // open
  // The heap before any waiter, to compare with the one while all wait (heap-diff.mjs).
  const snapshotBefore = args.heapSnapshot ? await takeHeapSnapshot('before') : undefined;
  await phases.enter('open');
  const beforeWait = phases.samples.at(-1);
  const answers = [];
  for (let i = 0; i < Math.max(heldHttp.length, mcpN); i += args.openChunk) {
    for (const a of heldHttp.slice(i, i + args.openChunk)) answers.push(poll(a));
    for (let k = i; k < Math.min(i + args.openChunk, mcpN); k++) answers.push(mcpCall(k));
    await new Promise((r) => setTimeout(r, args.openChunk));
  }
  function poll(a) {
    counters.inFlight++;
    return retrying(`long poll ${a.id}`, () => call(gw.url, `/v1/actions/${a.id}?wait=290`, { token: secrets.agent, timeoutMs: 300_000 }))
      .then((r) => {
        counters.done++;
        if (r.status === 200 && r.json?.status === 'approved') return 'approved';
        fail(`long poll ${a.id}`, `${r.status} ${r.json?.status ?? r.text.slice(0, 200)}`);
        return 'not approved';
      })
      .catch((e) => {
        fail(`long poll ${a.id}`, reasonOf(e));
        return 'error';
      })
      .finally(() => counters.inFlight--);
  }
  // An agent's tools/call, held by the gateway until the review; the answer is the
  // upstream tool's own result once approved and run. A retry is the same call (same
  // arguments): the gateway attaches it to the action already held for it.
  function mcpCall(k) {
    counters.inFlight++;
    const body = { jsonrpc: '2.0', id: k, method: 'tools/call', params: { name: 'notes__write_note', arguments: { name: `w${k}`, text: 'held' } } };
    return retrying(`mcp call ${k}`, () => call(gw.url, '/mcp', { method: 'POST', token: secrets.agent, body, headers: { accept: 'application/json, text/event-stream' }, timeoutMs: 300_000 }))
      .then((r) => {
        counters.done++;
        // Streamable HTTP answers a held call as an SSE stream; the result is its last data line.
        const data = r.text.split('\n').filter((l) => l.startsWith('data: ')).at(-1);
        const result = data ? JSON.parse(data.slice(6)).result : r.json?.result;
        if (result && !result.isError && result.content?.[0]?.text === `wrote w${k}`) return 'approved';
        fail(`mcp call ${k}`, `mcp: ${JSON.stringify(result ?? r.text).slice(0, 200)}`);
        return 'not approved';
      })
      .catch((e) => {
        fail(`mcp call ${k}`, reasonOf(e));
        return 'error';
      })
      .finally(() => counters.inFlight--);
  }
  say(`open: ${heldHttp.length} long polls and ${mcpN} MCP calls opened in ${Date.now() - phases.startedAt()} ms`);

  // held: every waiter registered in the gateway (its countersign_waiters gauge; a
  // gateway without it: every action pending), then the MCP actions listed once, as a
  // reviewer lists them: listing ten thousand actions every second would be the
  // campaign's load, not the waiters'.
  await phases.enter('held');
  const deadline = Date.now() + args.heldTimeoutSeconds * 1000;
  let registered;
  for (;;) {
    const text = await call(gw.url, '/metrics').then((r) => r.text, () => '');
    registered = gauge(text, 'countersign_waiters');
    const count = Number.isNaN(registered) ? gauge(text, 'countersign_pending_actions') : registered;
    if (count >= heldHttp.length + mcpN || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  let pendingMcp = [];
  try {
    pendingMcp = await pendingOfKind(gw, secrets, 'mcp', retrying);
  } catch (e) {
    fail('held', `listing the pending actions: ${reasonOf(e)}`);
  }
  if (registered < heldHttp.length + mcpN) fail('held', `only ${registered} of ${heldHttp.length + mcpN} waiters registered in the gateway`);
  if (pendingMcp.length < mcpN) fail('held', `only ${pendingMcp.length} of ${mcpN} MCP calls held after ${Math.round((Date.now() - phases.startedAt()) / 1000)} s`);

  // waiting
  await phases.enter('waiting');
  await new Promise((r) => setTimeout(r, 3000));
  const waiting = await sample();
  say(`waiting: rss ${waiting.rssMb.toFixed(0)} MB, heap ${waiting.heapMb.toFixed(0)} MB used of ${waiting.heapTotalMb.toFixed(0)} MB, external ${waiting.externalMb.toFixed(1)} MB, handles ${waiting.handles}, MCP holds ${pendingMcp.length}`);
  const snapshot = args.heapSnapshot ? await takeHeapSnapshot('waiting') : undefined;

  // approve: the batch decision API, each action bound to its fingerprint
  await phases.enter('approve');
  const toApprove = [...heldHttp, ...pendingMcp];
  const batches = [];
  for (let i = 0; i < toApprove.length; i += 100) batches.push(toApprove.slice(i, i + 100));
  let nextBatch = 0;
  let approved = 0;
  await Promise.all(
    Array.from({ length: Math.min(args.approveConcurrency, batches.length) }, async () => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++];
        const items = batch.map((a) => ({ id: a.id, fingerprint: a.fingerprint }));
        let sent = 0;
        try {
          const r = await retrying(`approve batch of ${batch.length}`, () => {
            sent++;
            return call(gw.url, '/v1/reviews', { method: 'POST', token: secrets.alice, body: { verdict: 'approve', items }, timeoutMs: args.callTimeoutMs });
          });
          if (r.status !== 200) {
            for (const a of batch) fail(`approve ${a.id}`, `batch ${r.status} ${r.text.slice(0, 200)}`);
            continue;
          }
          for (const res of r.json.results) {
            // A batch sent again after a lost connection finds the ones it approved already done.
            if (res.ok || (sent > 1 && (res.error?.code === 'ALREADY_REVIEWED' || res.error?.code === 'NOT_PENDING'))) approved++;
            else fail(`approve ${res.id}`, `${res.error?.code}: ${res.error?.message}`);
          }
        } catch (e) {
          for (const a of batch) fail(`approve ${a.id}`, reasonOf(e));
        }
      }
    }),
  );
  say(`approve: ${approved} approved in ${batches.length} batches, ${Date.now() - phases.startedAt()} ms`);

  // answer
  await phases.enter('answer');
  const statuses = await Promise.all(answers);
  await phases.enter('done');
  clearInterval(sampler);
  const notApproved = statuses.filter((s) => s !== 'approved').length;
  const all = phases.samples;
  const peakRss = Math.max(...all.map((s) => s.rssMb));
  const worstStall = Math.max(...all.slice(1).map((s) => s.loopMaxMs).filter(Number.isFinite));
  const waiters = heldHttp.length + pendingMcp.length;
  const pass = counters.errors === 0 && notApproved === 0 && waiters === n && peakRss <= args.maxRssMb && worstStall <= args.maxWaiterStallMs;
  const perWaiterKb = ((waiting.rssMb - beforeWait.rssMb) * 1024) / Math.max(1, waiters);
  const heapPerWaiterKb = ((waiting.heapMb - beforeWait.heapMb) * 1024) / Math.max(1, waiters);
  const byReason = {};
  for (const f of failures) byReason[f.reason] = (byReason[f.reason] ?? 0) + 1;
  const table = phases.table();
  return {
    pass,
    waiters,
    registeredInGateway: registered,
    httpLongPolls: heldHttp.length,
    mcpHolds: pendingMcp.length,
    errors: counters.errors,
    notApproved,
    rssBeforeWaitMb: +beforeWait.rssMb.toFixed(0),
    rssWaitingMb: +waiting.rssMb.toFixed(0),
    heapBeforeWaitMb: +beforeWait.heapMb.toFixed(0),
    heapWaitingMb: +waiting.heapMb.toFixed(0),
    heapTotalBeforeWaitMb: +beforeWait.heapTotalMb.toFixed(0),
    heapTotalWaitingMb: +waiting.heapTotalMb.toFixed(0),
    externalBeforeWaitMb: +beforeWait.externalMb.toFixed(1),
    externalWaitingMb: +waiting.externalMb.toFixed(1),
    rssPerWaiterKb: +perWaiterKb.toFixed(1),
    heapPerWaiterKb: +heapPerWaiterKb.toFixed(1),
    peakRssMb: +peakRss.toFixed(0),
    worstStallMs: +worstStall.toFixed(1),
    phases: table,
    retries,
    failuresByReason: byReason,
    failures,
    ...(snapshot ? { heapSnapshots: [snapshotBefore, snapshot] } : {}),
    summary:
      `${waiters} waiters (${heldHttp.length} HTTP long polls, ${pendingMcp.length} MCP holds): RSS ${beforeWait.rssMb.toFixed(0)} MB before, ${waiting.rssMb.toFixed(0)} MB waiting ` +
      `(${perWaiterKb.toFixed(1)} KB each), peak ${peakRss.toFixed(0)} MB; worst event-loop stall ${worstStall.toFixed(1)} ms; errors ${counters.errors}, not approved ${notApproved}\n` +
      table.map((p) => `  ${p.phase.padEnd(8)} ${String(p.ms).padStart(8)} ms  worst stall ${String(p.worstStallMs).padStart(7)} ms  intervals over 50 ms ${String(p.intervalsOver50).padStart(3)}  gateway CPU ${String(p.cpuMs).padStart(7)} ms  RSS at end ${p.rssEndMb} MB`).join('\n'),
  };
}

/** A gauge's value in a /metrics text (NaN when absent). */
function gauge(text, name) {
  const m = new RegExp(`^${name} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/**
 * Pending actions of a kind, as a reviewer lists them, each page retried on a lost
 * connection. Pages of 100: a page is one synchronous read and serialization in the
 * gateway, and a page of 500 is a stall of its own.
 */
async function pendingOfKind(gw, secrets, kind, retrying) {
  const out = [];
  let cursor = '';
  for (;;) {
    const path = `/v1/actions?status=pending&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const r = await retrying(`list ${path}`, () => call(gw.url, path, { token: secrets.alice, timeoutMs: 300_000 }), { retryTimeouts: true });
    if (r.status !== 200) throw new Error(`list: ${r.status} ${r.text.slice(0, 200)}`);
    const items = r.json?.actions ?? [];
    out.push(...items.filter((a) => a.kind === kind));
    cursor = r.json?.nextCursor ?? '';
    if (!cursor || items.length === 0) return out;
  }
}
