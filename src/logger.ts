import pino from 'pino';
import type { DestinationStream, Logger } from 'pino';

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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: { service: 'countersign' }, redact: { paths: LOG_REDACT_PATHS, censor: '[REDACTED]' } }, destination);
}
