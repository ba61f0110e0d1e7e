import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import type { Logger } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../logger.js';
import { lazyChildLoggerFactory } from './lazy-request-logger.js';

function setup(level: string) {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger(level, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  const child = vi.spyOn(logger, 'child');
  const app = Fastify({ loggerInstance: logger as unknown as FastifyBaseLogger, childLoggerFactory: lazyChildLoggerFactory, logController: new LogController({ disableRequestLogging: true }), genReqId: () => 'req_test' });
  return { app, lines, child, logger };
}

describe('request loggers are made only when a line is written', () => {
  it('a request that logs nothing at an enabled level makes no pino child', async () => {
    const { app, child } = setup('info');
    app.get('/quiet', async (req) => {
      req.log.debug('not at info');
      req.log.trace({ x: 1 }, 'nor this');
      return { enabled: (req.log as unknown as Logger).isLevelEnabled('debug') };
    });
    await app.ready();
    child.mockClear(); // Fastify's own child for the instance
    const res = await app.inject('/quiet');
    expect(res.json()).toEqual({ enabled: false });
    expect(child).not.toHaveBeenCalled();
  });

  it('a line written carries the request id and the redaction paths, and the child is made once', async () => {
    const { app, lines, child } = setup('info');
    app.get('/loud', async (req) => {
      req.log.info({ headers: { authorization: 'Bearer secret-value' } }, 'first');
      req.log.warn('second');
      req.log.debug('skipped');
      return { level: req.log.level };
    });
    await app.ready();
    child.mockClear();
    const res = await app.inject('/loud');
    expect(res.json()).toEqual({ level: 'info' });
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.msg, l.reqId, l.level])).toEqual([
      ['first', 'req_test', 30],
      ['second', 'req_test', 40],
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-value');
    expect((lines[0]!.headers as { authorization: string }).authorization).toBe('[REDACTED]');
  });

  it('follows the parent level, and a child of the request logger keeps the request id', async () => {
    const { app, lines, logger } = setup('warn');
    app.get('/nested', async (req) => {
      req.log.info('below warn');
      logger.level = 'debug';
      req.log.debug('now enabled');
      req.log.child({ part: 'x' }).error('nested');
      return {};
    });
    await app.inject('/nested');
    expect(lines.map((l) => [l.msg, l.reqId, l.part])).toEqual([
      ['now enabled', 'req_test', undefined],
      ['nested', 'req_test', 'x'],
    ]);
  });
});
