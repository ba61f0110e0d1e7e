// The README promises Node >= 20.19. Every package `npm ci` installs must accept that
// version, or npm warns (EBADENGINE) and the promise is untrue. cookie 2 (through
// Fastify's light-my-request) asks for Node 22: package.json overrides it with
// cookie 1.1.1, which declares Node 18 and has the `stringifySetCookie` it calls.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
  packages: Record<string, { version?: string; engines?: { node?: string } | string[] }>;
};

describe('Node version promise', () => {
  it('every locked package accepts the oldest Node the README promises', () => {
    const oldest = semver.minVersion(pkg.engines.node)!.version;
    expect(oldest).toBe('20.19.0');
    const refused = Object.entries(lock.packages)
      .filter(([, p]) => !Array.isArray(p.engines) && p.engines?.node && !semver.satisfies(oldest, p.engines.node))
      .map(([path, p]) => `${path}@${p.version} wants node ${(p.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });

  it("light-my-request gets the overridden cookie, and Fastify's inject still sends cookies with it", async () => {
    expect(lock.packages['node_modules/light-my-request/node_modules/cookie']?.version ?? lock.packages['node_modules/cookie']?.version).toBe('1.1.1');
    const app = Fastify();
    app.get('/c', (req) => ({ cookie: req.headers.cookie }));
    const res = await app.inject({ method: 'GET', url: '/c', cookies: { session: 'a b', other: 'x' } });
    expect(res.json()).toEqual({ cookie: 'session=a%20b; other=x' });
    await app.close();
  });
});
