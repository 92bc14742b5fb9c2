import { pino, type Logger } from 'pino';

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

export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { ...base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
