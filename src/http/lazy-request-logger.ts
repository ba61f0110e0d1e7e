import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type LogFn = FastifyBaseLogger['info'];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * A request's logger that becomes a pino child only when a line is written at an enabled
 * level. Fastify makes a child per request, and a pino child serializes its bindings
 * through the redaction paths on creation: the largest allocation on the allow path's
 * HTTP thread (about a twelfth of it, sampling heap profiler), for a logger that a 2xx
 * decision at level info never writes to. A line written at all goes through the same
 * child, with the same bindings (the request id) and redaction, as before.
 */
class LazyRequestLogger {
  #child: Logger | undefined;
  declare fatal: LogFn;
  declare error: LogFn;
  declare warn: LogFn;
  declare info: LogFn;
  declare debug: LogFn;
  declare trace: LogFn;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  get real(): Logger {
    return (this.#child ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return this.#child ? this.#child.level : this.parent.level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#child ?? this.parent).isLevelEnabled(level);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, options);
  }
}

for (const level of LEVELS) {
  Object.defineProperty(LazyRequestLogger.prototype, level, {
    value: function (this: LazyRequestLogger, ...args: Parameters<LogFn>): void {
      if (this.isLevelEnabled(level)) this.real[level](...args);
    },
  });
}

/**
 * Fastify's `childLoggerFactory`. A route that sets its own log level gets a real child
 * at once (its level is the child's, not the parent's).
 */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  const parent = logger as unknown as Logger;
  if (Object.keys(opts).length > 0) return parent.child(bindings, opts);
  return new LazyRequestLogger(parent, bindings);
}
