import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { CONSOLE_CSS } from './console-css.js';

/** The console's scripts, compiled from src/console/browser by tsc: small, dependency-free modules. */
const SCRIPTS = ['live.js', 'verify.js', 'receipt-verify.js'] as const;

function load(): Map<string, { type: string; body: string }> {
  const assets = new Map<string, { type: string; body: string }>([['console.css', { type: 'text/css; charset=utf-8', body: CONSOLE_CSS }]]);
  for (const name of SCRIPTS) {
    try {
      // The source map comment is dropped: maps are not served.
      const body = readFileSync(new URL(`./browser/${name}`, import.meta.url), 'utf8').replace(/\n\/\/# sourceMappingURL=.*\n?$/, '\n');
      assets.set(name, { type: 'text/javascript; charset=utf-8', body });
    } catch {
      // Running from TypeScript sources (unit tests): no compiled scripts to serve.
    }
  }
  return assets;
}

/** Every asset the console uses, served by the gateway itself: nothing from a CDN. */
export function registerConsoleAssets(app: FastifyInstance): void {
  const assets = load();
  app.get('/assets/:name', { schema: { params: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z-]{1,32}\\.(js|css)$' } } } } }, async (req, reply) => {
    const a = assets.get((req.params as { name: string }).name);
    if (!a) return reply.callNotFound();
    return reply.type(a.type).header('cache-control', 'no-cache').send(a.body);
  });
}
