import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { createRequire } from 'node:module';
import type * as PinoPrettyModule from 'pino-pretty';

/** Paths pino removes from every log line: credentials never reach the logs. */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  'headers.cookie',
  '*.token',
  '*.tokenHash',
  '*.password',
  '*.secret',
  '*.botToken',
  '*.signingSecret',
  '*.appPassword',
  'config.targets.*.headers',
  'config.targets.*.url',
  'config.targets.*.preview.url',
  'config.targets.*.tls.key',
];

/** What the logger needs of the config's redactor (domain/redact-secrets.ts). */
export interface LogRedactor {
  text(s: string): string;
}

/**
 * The paths above catch credentials by name; `redactor` also catches the config's secret
 * values wherever else they appear (an error message quoting a target's answer, in any
 * form it redacts), on each line as written: replacements fall inside JSON strings, so
 * lines stay valid JSON.
 */
export type LogFormat = 'auto' | 'json' | 'pretty';

/** `auto`: readable lines for a person at a terminal, JSON for anything that collects logs. */
export function prettyLogs(format: LogFormat, isTty = process.stdout.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && isTty);
}

/**
 * pino-pretty as a stream behind pino: it receives the lines pino writes, after the
 * redaction hook, so a pretty line holds no more than the JSON one would.
 */
export function prettyStream(destination?: NodeJS.WritableStream): DestinationStream {
  // Required here, not imported: a gateway logging JSON (the usual case) never loads it, and
  // createLogger stays synchronous.
  const { PinoPretty } = createRequire(import.meta.url)('pino-pretty') as typeof PinoPrettyModule;
  return PinoPretty({ colorize: destination === undefined && process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', sync: true, ...(destination ? { destination } : {}) });
}

export function createLogger(level: string, destination?: DestinationStream, redactor?: LogRedactor, format: LogFormat = 'json'): Logger {
  if (destination === undefined && prettyLogs(format)) destination = prettyStream();
  return pino(
    {
      level,
      base: { service: 'countersign' },
      redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' },
      ...(redactor ? { hooks: { streamWrite: (line: string) => redactor.text(line) } } : {}),
    },
    destination,
  );
}
