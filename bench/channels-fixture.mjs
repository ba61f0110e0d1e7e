// What the channel benchmarks share (channels-bench.mjs, channels-cpu.mjs): local fakes of
// the Slack Web API, the Bot Framework token endpoint and connector, and webhook receivers,
// in one process that counts what it receives (GET /counts).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const fakesSrc = `
import { createServer } from 'node:http';
let n = 0;
const counts = { slack: 0, teams: 0, hooks: 0 };
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const json = (s, o) => { res.writeHead(s, { 'content-type': 'application/json' }); res.end(JSON.stringify(o)); };
    if (req.url === '/counts') return json(200, counts);
    if (req.url.startsWith('/api/')) { counts.slack++; const ts = (1700000000 + ++n) + '.000001'; return json(200, { ok: true, channel: 'CBENCH', ts }); }
    if (req.url === '/token') return json(200, { token_type: 'Bearer', expires_in: 3600, access_token: 'bench-token' });
    if (req.url.startsWith('/teams/v3/')) { counts.teams++; return json(req.method === 'POST' ? 201 : 200, { id: '1:' + ++n }); }
    if (req.url.startsWith('/hook')) { counts.hooks++; return json(200, { ok: true }); }
    json(404, {});
  });
});
server.listen(0, '127.0.0.1', () => console.log('URL http://127.0.0.1:' + server.address().port));
`;

/** Writes the fakes' script into `dir`; returns it, to start as its own process. */
export function writeChannelFakes(dir) {
  const file = join(dir, 'fakes.mjs');
  writeFileSync(file, fakesSrc);
  return file;
}

/** Starts a node process and resolves with it and the URL it prints (`URL …`, or the gateway's listening line). */
export function startNode(args, env = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c) => {
      buf += c;
      const m = /URL (\S+)/.exec(buf) ?? /"url":"([^"]+)"[^\n]*"msg":"countersign listening"/.exec(buf);
      if (m) resolve({ child, url: m[1] ?? m[2] });
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${buf.slice(-2000)}`)));
  });
}

/** What the fakes have received so far. */
export async function fakeCounts(url) {
  return (await fetch(`${url}/counts`)).json();
}
