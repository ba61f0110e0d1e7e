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
export function createLogger(level: string, destination?: DestinationStream, redactor?: LogRedactor): Logger {
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
