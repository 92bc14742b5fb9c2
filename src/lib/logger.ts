import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';
import { maskLogLine } from './mask.js';

export type { Logger };

/**
 * Paths that must never reach a log line. pino-http logs request headers, and config objects
 * sometimes get logged while debugging: both are covered.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.pass',
  '*.token',
  '*.adminToken',
  '*.secretKey',
  '*.smtpUrl',
  '*.databaseUrl',
  'config.webhooks',
];

export interface LogDestination {
  write(line: string): unknown;
}

/**
 * Readable lines for a developer at a terminal (`npm start` in development): time, level,
 * message and the fields, coloured. Production and anything piped (a log collector, a file)
 * keep JSON lines. The lines are masked before they are pretty-printed.
 */
export function prettyDestination(): LogDestination {
  return PinoPretty({
    sync: true,
    colorize: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
  });
}

/**
 * The process logger: JSON lines on stdout, secrets redacted by path, subscriber addresses
 * masked in every line at `info` and above (whatever field or error message carries them).
 */
export function createLogger(
  level: string,
  base: Record<string, unknown> = {},
  destination: LogDestination = pino.destination({ dest: 1, sync: true }),
): Logger {
  return pino(
    {
      level,
      base: { ...base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    { write: (line: string) => destination.write(maskLogLine(line)) },
  );
}
