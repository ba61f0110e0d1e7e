// The README promises Node >= 20.19. Every package `npm ci` installs must accept that
// version, or npm warns (EBADENGINE) and the promise is untrue. cookie 2 (through
// Fastify's light-my-request >= 6.8) asks for Node 22. An `overrides` entry would not help
// users: npm ignores it when the package is installed as a dependency (npm install -g).
// So package.json pins light-my-request 6.6.0 (cookie ^1, Node 18), which satisfies
// Fastify's own range and is deduplicated into the one copy Fastify loads.
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

  it("Fastify uses the pinned light-my-request (cookie 1, no override needed), and its inject still sends cookies", async () => {
    const manifest = pkg as unknown as { dependencies: Record<string, string>; overrides?: unknown };
    expect(manifest.dependencies['light-my-request']).toBe('6.6.0');
    expect(manifest.overrides).toBeUndefined();
    expect(lock.packages['node_modules/light-my-request']?.version).toBe('6.6.0');
    expect(lock.packages['node_modules/fastify/node_modules/light-my-request']).toBeUndefined();
    expect(semver.major(lock.packages['node_modules/light-my-request/node_modules/cookie']?.version ?? lock.packages['node_modules/cookie']!.version!)).toBe(1);
    const app = Fastify();
    app.get('/c', (req) => ({ cookie: req.headers.cookie }));
    const res = await app.inject({ method: 'GET', url: '/c', cookies: { session: 'a b', other: 'x' } });
    expect(res.json()).toEqual({ cookie: 'session=a%20b; other=x' });
    await app.close();
  });
});
