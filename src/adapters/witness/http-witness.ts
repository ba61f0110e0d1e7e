import { parseCheckpointText } from '../../domain/checkpoint.js';
import type { VerifierKey } from '../../domain/signed-note.js';
import { parseNote, verifyCosignature } from '../../domain/signed-note.js';
import type { Witness } from '../../ports/witness.js';

/**
 * A C2SP tlog-witness, over HTTP: `POST <url>` with `old <size>`, the consistency
 * proof from that size and the checkpoint. A 409 with `text/x.tlog.size` says which
 * size the witness holds: the push is retried once from there. The witness answers
 * with cosignature lines; with its verifier key configured, the ones that verify are
 * kept with the checkpoint, otherwise none is.
 */
export function createHttpWitness(opts: { url: string; key?: VerifierKey | undefined; timeoutMs: number }): Witness {
  // What logs and errors name: the URL without any credentials in it.
  const shown = (() => {
    const u = new URL(opts.url);
    u.username = '';
    u.password = '';
    return u.toString();
  })();
  async function post(body: string): Promise<Response> {
    return fetch(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8', 'user-agent': 'countersign-witness-client' },
      body,
      signal: AbortSignal.timeout(opts.timeoutMs),
      redirect: 'error',
    });
  }

  return {
    name: `url:${shown}`,
    every: false,
    async push(cp, _origin, ctx) {
      const send = async (old: number) => {
        const proof = old > 0 && old < cp.size ? await ctx.proof(old) : [];
        const lines = proof.map((h) => `${Buffer.from(h).toString('base64')}\n`).join('');
        return post(`old ${old}\n${lines}\n${cp.note}`);
      };
      let res = await send(ctx.lastSize <= cp.size ? ctx.lastSize : 0);
      if (res.status === 409 && (res.headers.get('content-type') ?? '').startsWith('text/x.tlog.size')) {
        const held = Number((await res.text()).trim());
        if (!Number.isSafeInteger(held) || held < 0) throw new Error(`the witness ${shown} answered 409 without a size`);
        if (held > cp.size) throw new Error(`the witness ${shown} holds a checkpoint of ${held} entries, more than this log's latest (${cp.size}): the log was rolled back or forked`);
        if (held === cp.size) return [];
        res = await send(held);
      }
      const text = await res.text();
      if (res.status !== 200) throw new Error(`the witness ${shown} refused the checkpoint of ${cp.size} entries: HTTP ${res.status} ${text.slice(0, 200)}`);
      if (!opts.key) return [];
      const body = cp.note.slice(0, cp.note.lastIndexOf('\n\n') + 1);
      parseCheckpointText(body);
      const sigs = text.endsWith('\n') ? text : `${text}\n`;
      let parsed;
      try {
        parsed = parseNote(`${body}\n${sigs}`);
      } catch {
        throw new Error(`the witness ${shown} answered with malformed cosignatures`);
      }
      return parsed.signatures.filter((s) => verifyCosignature(body, s, opts.key!) !== undefined).map((s) => s.line);
    },
  };
}
