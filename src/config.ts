// The one place that reads process.env. Every setting is validated here once; the rest of the
// code receives a typed, frozen Config. A bad value stops start-up with a message that names
// the variable, so an operator never has to guess which setting is wrong.
import { isIP } from 'node:net';
import {
  int,
  isProxyItem,
  oneClickCapable,
  commaList,
  flag,
  optionalString,
  together,
  url,
} from './config-values.js';
import path from 'node:path';
import { z } from 'zod';
import { hasControlCharacters } from './domain/text.js';
import { packageRoot } from './lib/paths.js';
import { ConfigError, readConfigFiles } from './config-files.js';

export { ConfigError };

export { oneClickCapable };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The raw shape: keys are the environment variable names, as operators write them. */
const rawSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: int(0, 65535),
  PUBLIC_URL: url(['http:', 'https:']).transform((u) => u.replace(/\/+$/, '')),
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  REDIS_URL: url(['redis:', 'rediss:']),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, { error: 'must be 1-64 letters, digits, _ . : or -' }),
  SMTP_URL: optionalString.pipe(url(['smtp:', 'smtps:']).optional()),
  SMTP_POOL_SIZE: int(1, 1000),
  SEND_RATE: int(0),
  WORKER_CONCURRENCY: int(1, 10000),
  MAX_ATTEMPTS: int(1, 100),
  MAX_SEND_ERRORS: int(1),
  RETRY_BASE_DELAY_MS: int(0),
  MAIL_FROM: z.string().trim().min(3),
  ADMIN_TOKEN: optionalString.pipe(
    z.string().min(16, { error: 'must be at least 16 characters' }).optional(),
  ),
  SECRET_KEY: optionalString.pipe(
    z.string().min(32, { error: 'must be at least 32 characters' }).optional(),
  ),
  // Former SECRET_KEYs, comma-separated: links signed with them still verify after a rotation
  // (unsubscribe links never expire); nothing new is signed with them.
  SECRET_KEY_PREVIOUS: commaList,
  WEBHOOK_SECRET: optionalString,
  MAILGUN_SIGNING_KEY: optionalString,
  SENDGRID_WEBHOOK_PUBLIC_KEY: optionalString,
  SES_TOPIC_ARNS: commaList,
  POSTMARK_WEBHOOK_USER: optionalString,
  POSTMARK_WEBHOOK_PASSWORD: optionalString,
  SOFT_BOUNCE_LIMIT: int(1),
  SOFT_BOUNCE_WINDOW_DAYS: int(1),
  DKIM_DOMAIN: optionalString,
  DKIM_SELECTOR: optionalString,
  DKIM_PRIVATE_KEY: optionalString,
  BOUNCE_DOMAIN: optionalString,
  UNSUBSCRIBE_MAILTO: optionalString,
  BOUNCE_SMTP_PORT: z.preprocess((v) => (v === '' ? undefined : v), int(1, 65535).optional()),
  METRICS_TOKEN: optionalString,
  METRICS_CACHE_MS: int(0),
  METRICS_PORT: z.preprocess((v) => (v === '' ? undefined : v), int(0, 65535).optional()),
  BULLETIN_URL: url(['http:', 'https:']).transform((u) => u.replace(/\/+$/, '')),
  BULLETIN_TOKEN: optionalString,
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }),
  // Not in the product contract's table; operational limits with safe defaults.
  IMPORT_MAX_BYTES: int(1024),
  JSON_BODY_LIMIT_BYTES: int(1024),
  SHUTDOWN_TIMEOUT_MS: int(0),
  // How long an SMTP server may stay silent (greeting, any reply, the answer to the end of
  // DATA) before the attempt counts as a transient failure and the message is retried.
  SMTP_TIMEOUT_MS: int(100),
  OUTBOX_DIR: z.string().default('var/outbox'),
  // Who sends: named on the public pages, in the confirmation mail and the default footer.
  ORG_NAME: z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(200, { error: 'must be at most 200 characters' })
    .refine((v) => !hasControlCharacters(v), { error: 'must be one line of text' }),
  ORG_ADDRESS: optionalString.pipe(
    z
      .string()
      .max(500, { error: 'must be at most 500 characters' })
      .refine((v) => !hasControlCharacters(v), {
        error: 'must be one line of text (separate the parts with commas)',
      })
      .optional(),
  ),
  HOST: optionalString.pipe(
    z
      .string()
      .refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9.-]{1,253}$/.test(h), {
        error: 'must be an IP address or a host name (127.0.0.1, 0.0.0.0, ::)',
      })
      .optional(),
  ),
  TRUST_PROXY: optionalString.pipe(
    z
      .string()
      .refine((v) => v.split(',').every((item) => isProxyItem(item.trim())), {
        error:
          'must be a comma-separated list of addresses, CIDR ranges (10.0.0.0/8) or the names ' +
          'loopback, linklocal, uniquelocal',
      })
      .optional(),
  ),
  // Not in the product contract's table: HTTP server limits (docs/security.md).
  HTTP_HEADERS_TIMEOUT_MS: int(1000),
  HTTP_REQUEST_TIMEOUT_MS: int(1000),
  HTTP_UPLOAD_TIMEOUT_MS: int(1000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000),
  HTTP_MAX_CONNECTIONS: int(1),
  // Accounts and the two-person rule (docs/accounts.md, docs/approval.md).
  REQUIRE_APPROVAL: flag,
  REQUIRE_2FA: flag,
  SESSION_IDLE_MINUTES: int(1),
  SESSION_MAX_HOURS: int(1),
  // Engagement (docs/engagement.md): the default tracking of new campaigns, and how long raw
  // open and click events are kept.
  TRACK_OPENS: flag,
  TRACK_CLICKS: flag,
  TRACKING_RETENTION_DAYS: int(1),
});

export type RawConfig = z.infer<typeof rawSchema>;

export interface Config {
  nodeEnv: RawConfig['NODE_ENV'];
  port: number;
  publicUrl: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  smtpUrl: string | undefined;
  smtpPoolSize: number;
  sendRate: number;
  workerConcurrency: number;
  maxAttempts: number;
  maxSendErrors: number;
  retryBaseDelayMs: number;
  mailFrom: string;
  adminToken: string | undefined;
  secretKey: string | undefined;
  previousSecretKeys: string[];
  webhooks: {
    genericSecret: string | undefined;
    mailgunSigningKey: string | undefined;
    sendgridPublicKey: string | undefined;
    sesTopicArns: string[];
    postmarkUser: string | undefined;
    postmarkPassword: string | undefined;
  };
  softBounceLimit: number;
  softBounceWindowDays: number;
  dkim: { domain: string; selector: string; privateKey: string } | undefined;
  bounceDomain: string | undefined;
  unsubscribeMailto: string | undefined;
  bounceSmtpPort: number | undefined;
  metricsToken: string | undefined;
  /** Port of the ops server (/health, /ready, /metrics) every role starts; unset = none. */
  metricsPort: number | undefined;
  /** How long /metrics reuses its PostgreSQL and Redis figures (0 = read on every scrape). */
  metricsCacheMs: number;
  cli: { url: string; token: string | undefined };
  logLevel: RawConfig['LOG_LEVEL'];
  importMaxBytes: number;
  jsonBodyLimitBytes: number;
  shutdownTimeoutMs: number;
  smtpTimeoutMs: number;
  outboxDir: string;
  /** Who sends the newsletters: shown on public pages, in the confirmation mail and footers. */
  org: { name: string; address: string | undefined };
  /** Interface the HTTP servers listen on: loopback in development, all in production. */
  host: string;
  /** Express `trust proxy`: false (the socket's address) unless TRUST_PROXY names proxies. */
  trustProxy: string | false;
  http: {
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    uploadTimeoutMs: number;
    keepAliveTimeoutMs: number;
    maxConnections: number;
  };
  requireApproval: boolean;
  require2fa: boolean;
  sessions: { idleMinutes: number; maxHours: number };
  tracking: { opens: boolean; clicks: boolean; retentionDays: number };
}

export interface LoadConfigOptions {
  env?: Record<string, string | undefined>;
  configDir?: string;
}

/**
 * Layers config/default.json, then config/<NODE_ENV>.json, then the environment, and validates
 * the result. Only names the schema knows are taken from the environment.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const dir = options.configDir ?? path.join(packageRoot(), 'config');
  const nodeEnv = env.NODE_ENV && env.NODE_ENV !== '' ? env.NODE_ENV : 'development';
  const layered = readConfigFiles(dir, nodeEnv, rawSchema.shape);
  for (const key of Object.keys(rawSchema.shape)) {
    const value = env[key];
    // An empty variable is unset (`PORT=` in a compose file, `export PORT=`): the JSON value
    // stays, rather than an empty string becoming 0 or a refused URL.
    if (value !== undefined && value !== '') layered[key] = value;
  }
  const result = rawSchema.safeParse(layered);
  if (!result.success) {
    throw ConfigError.fromIssues(result.error.issues);
  }
  const raw = result.data;
  const problems = crossChecks(raw);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(raw);
}

/** config/default.json, then config/<NODE_ENV>.json; a key the schema does not know is refused. */
/** Rules between settings, which the per-setting schema cannot say. */
function crossChecks(raw: RawConfig): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (raw.NODE_ENV === 'production' && !oneClickCapable(raw.PUBLIC_URL)) {
    problems.push({
      variable: 'PUBLIC_URL',
      message:
        'must be an https:// URL when NODE_ENV=production: mail clients offer one-click ' +
        'unsubscribe (RFC 8058) only for https links (http is accepted for localhost only)',
    });
  }
  if (raw.NODE_ENV === 'production' && !raw.SMTP_URL) {
    problems.push({
      variable: 'SMTP_URL',
      message: 'must be set when NODE_ENV=production (the development outbox is refused there)',
    });
  }
  problems.push(
    ...together(raw, ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY']),
    ...together(raw, ['POSTMARK_WEBHOOK_USER', 'POSTMARK_WEBHOOK_PASSWORD']),
  );
  return problems;
}

function toConfig(raw: RawConfig): Config {
  return Object.freeze({
    nodeEnv: raw.NODE_ENV,
    port: raw.PORT,
    publicUrl: raw.PUBLIC_URL,
    databaseUrl: raw.DATABASE_URL,
    redisUrl: raw.REDIS_URL,
    queuePrefix: raw.QUEUE_PREFIX,
    smtpUrl: raw.SMTP_URL,
    smtpPoolSize: raw.SMTP_POOL_SIZE,
    sendRate: raw.SEND_RATE,
    workerConcurrency: raw.WORKER_CONCURRENCY,
    maxAttempts: raw.MAX_ATTEMPTS,
    maxSendErrors: raw.MAX_SEND_ERRORS,
    retryBaseDelayMs: raw.RETRY_BASE_DELAY_MS,
    mailFrom: raw.MAIL_FROM,
    adminToken: raw.ADMIN_TOKEN,
    secretKey: raw.SECRET_KEY,
    previousSecretKeys: raw.SECRET_KEY_PREVIOUS,
    webhooks: {
      genericSecret: raw.WEBHOOK_SECRET,
      mailgunSigningKey: raw.MAILGUN_SIGNING_KEY,
      sendgridPublicKey: raw.SENDGRID_WEBHOOK_PUBLIC_KEY,
      sesTopicArns: raw.SES_TOPIC_ARNS,
      postmarkUser: raw.POSTMARK_WEBHOOK_USER,
      postmarkPassword: raw.POSTMARK_WEBHOOK_PASSWORD,
    },
    softBounceLimit: raw.SOFT_BOUNCE_LIMIT,
    softBounceWindowDays: raw.SOFT_BOUNCE_WINDOW_DAYS,
    dkim:
      raw.DKIM_DOMAIN && raw.DKIM_SELECTOR && raw.DKIM_PRIVATE_KEY
        ? { domain: raw.DKIM_DOMAIN, selector: raw.DKIM_SELECTOR, privateKey: raw.DKIM_PRIVATE_KEY }
        : undefined,
    bounceDomain: raw.BOUNCE_DOMAIN,
    unsubscribeMailto: raw.UNSUBSCRIBE_MAILTO,
    bounceSmtpPort: raw.BOUNCE_SMTP_PORT,
    metricsToken: raw.METRICS_TOKEN,
    metricsPort: raw.METRICS_PORT,
    metricsCacheMs: raw.METRICS_CACHE_MS,
    cli: { url: raw.BULLETIN_URL, token: raw.BULLETIN_TOKEN },
    logLevel: raw.LOG_LEVEL,
    importMaxBytes: raw.IMPORT_MAX_BYTES,
    jsonBodyLimitBytes: raw.JSON_BODY_LIMIT_BYTES,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    smtpTimeoutMs: raw.SMTP_TIMEOUT_MS,
    outboxDir: path.resolve(packageRoot(), raw.OUTBOX_DIR),
    org: { name: raw.ORG_NAME, address: raw.ORG_ADDRESS },
    host: raw.HOST ?? (raw.NODE_ENV === 'production' ? '0.0.0.0' : '127.0.0.1'),
    trustProxy: raw.TRUST_PROXY ?? false,
    http: {
      headersTimeoutMs: raw.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: raw.HTTP_REQUEST_TIMEOUT_MS,
      uploadTimeoutMs: raw.HTTP_UPLOAD_TIMEOUT_MS,
      keepAliveTimeoutMs: raw.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: raw.HTTP_MAX_CONNECTIONS,
    },
    requireApproval: raw.REQUIRE_APPROVAL,
    require2fa: raw.REQUIRE_2FA,
    sessions: { idleMinutes: raw.SESSION_IDLE_MINUTES, maxHours: raw.SESSION_MAX_HOURS },
    tracking: {
      opens: raw.TRACK_OPENS,
      clicks: raw.TRACK_CLICKS,
      retentionDays: raw.TRACKING_RETENTION_DAYS,
    },
  });
}

/**
 * The CLI's API commands need only where the API is and a token: validated on their own, so they
 * run on a machine that has no database or Redis settings (or wrong ones).
 */
const cliSchema = z.object({
  BULLETIN_URL: optionalString
    .pipe(url(['http:', 'https:']).optional())
    // fetch refuses such URLs, and the CLI prints BULLETIN_URL in its messages.
    .refine((u) => !u || !/^[a-z]+:\/\/[^/?#]*@/i.test(u), {
      error: 'must not contain user:password (the CLI authenticates with BULLETIN_TOKEN)',
    })
    .transform((u) => (u ?? 'http://localhost:3000').replace(/\/+$/, '')),
  // Sent as a header: a pasted line break or space would only fail later, less clearly.
  BULLETIN_TOKEN: optionalString.pipe(
    z
      .string()
      .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' })
      .optional(),
  ),
});

export interface CliConfig {
  url: string;
  token: string | undefined;
}

export function loadCliConfig(env: Record<string, string | undefined> = process.env): CliConfig {
  const result = cliSchema.safeParse({
    BULLETIN_URL: env.BULLETIN_URL,
    BULLETIN_TOKEN: env.BULLETIN_TOKEN,
  });
  if (!result.success) {
    throw ConfigError.fromIssues(result.error.issues);
  }
  return Object.freeze({ url: result.data.BULLETIN_URL, token: result.data.BULLETIN_TOKEN });
}
