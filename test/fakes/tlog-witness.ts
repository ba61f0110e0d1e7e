// A C2SP tlog-witness (https://c2sp.org/tlog-witness) for tests: the outside service
// an HTTP witness talks to, built from the specification. It verifies the log's
// signature (403), the old size (409 + text/x.tlog.size), the consistency proof (422),
// keeps the latest checkpoint per origin, and answers with a timestamped Ed25519
// cosignature (c2sp.org/tlog-cosignature), signed with node:crypto directly.
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign, verify } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyConsistency } from '../../src/domain/merkle.js';

const PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');

function keyId(name: string, type: number, pub: Buffer): Buffer {
  return createHash('sha256').update(Buffer.concat([Buffer.from(name), Buffer.from([0x0a, type]), pub])).digest().subarray(0, 4);
}

export interface FakeWitness {
  url: string;
  /** The witness's cosignature verifier key (type 0x04). */
  vkey: string;
  requests: Array<{ old: number; size: number; status: number }>;
  latest: Map<string, { size: number; root: Buffer }>;
  close(): Promise<void>;
}

export async function startTlogWitness(opts: { name: string; logVkey: string }): Promise<FakeWitness> {
  const seed = randomBytes(32);
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const pub = spki.subarray(spki.length - 32);
  const wid = keyId(opts.name, 0x04, pub);
  const vkey = `${opts.name}+${wid.toString('hex')}+${Buffer.concat([Buffer.from([0x04]), pub]).toString('base64')}`;

  // The log's key: <name>+<id>+base64(0x01 || key).
  const [logName, logId, logKey] = [opts.logVkey.split('+')[0]!, opts.logVkey.split('+')[1]!, opts.logVkey.split('+').slice(2).join('+')];
  const logPub = createPublicKey({ key: Buffer.concat([SPKI, Buffer.from(logKey, 'base64').subarray(1)]), format: 'der', type: 'spki' });

  const latest = new Map<string, { size: number; root: Buffer }>();
  const requests: FakeWitness['requests'] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body = '', type = 'text/plain') => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      const body = Buffer.concat(chunks).toString('utf8');
      const blank = body.indexOf('\n\n');
      const head = body.slice(0, blank).split('\n');
      const m = /^old (0|[1-9][0-9]*)$/.exec(head[0] ?? '');
      if (req.method !== 'POST' || blank < 0 || !m) return reply(400, 'bad request');
      const old = Number(m[1]);
      const proof = head.slice(1).map((l) => Buffer.from(l, 'base64'));
      const note = body.slice(blank + 2);
      const split = note.lastIndexOf('\n\n');
      const text = note.slice(0, split + 1);
      const [origin, sizeLine, rootLine] = text.split('\n');
      const size = Number(sizeLine);
      const root = Buffer.from(rootLine ?? '', 'base64');
      const record = (status: number) => requests.push({ old, size, status });
      if (origin !== logName) {
        record(404);
        return reply(404, 'unknown log');
      }
      const signed = note
        .slice(split + 2)
        .split('\n')
        .filter(Boolean)
        .some((line) => {
          const [, name, sig] = /^\u2014 (\S+) (\S+)$/u.exec(line) ?? [];
          const raw = Buffer.from(sig ?? '', 'base64');
          return name === logName && raw.subarray(0, 4).toString('hex') === logId && verify(null, Buffer.from(text), logPub, raw.subarray(4));
        });
      if (!signed) {
        record(403);
        return reply(403, 'not signed by the log');
      }
      if (old > size) {
        record(400);
        return reply(400, 'old size beyond the checkpoint');
      }
      const held = latest.get(origin);
      if (old !== (held?.size ?? 0)) {
        record(409);
        return reply(409, `${held?.size ?? 0}\n`, 'text/x.tlog.size');
      }
      if (held && old === size) {
        if (!held.root.equals(root)) {
          record(409);
          return reply(409, 'same size, another root');
        }
      } else if (held && !verifyConsistency(old, size, held.root, root, proof)) {
        record(422);
        return reply(422, 'inconsistent');
      }
      latest.set(origin, { size, root });
      const time = BigInt(Math.floor(Date.now() / 1000));
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(time);
      const sig = sign(null, Buffer.from(`cosignature/v1\ntime ${time}\n${text}`), priv);
      record(200);
      reply(200, `\u2014 ${opts.name} ${Buffer.concat([wid, ts, sig]).toString('base64')}\n`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/add-checkpoint`,
    vkey,
    requests,
    latest,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
