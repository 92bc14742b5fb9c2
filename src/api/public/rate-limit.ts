// Limits public requests per client IP, counted in Redis so every API process shares the count.
// Keys carry QUEUE_PREFIX: deployments sharing a Redis keep separate counts.
import type { RequestHandler } from 'express';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { sendError } from './layout.js';

export interface FormLimit {
  /** Counted separately from other limits (part of the Redis key). */
  name: string;
  windowMs: number;
  limit: number;
  /**
   * Count only refused requests (status >= 400): a guard against guessing tokens or forging
   * signatures that never slows down legitimate traffic, however much of it comes from one
   * address (a mail provider posting one-click unsubscribes, a provider's webhook retries).
   */
  failuresOnly?: boolean;
}

/** Subscribe form posts: enough for an office behind one address, too few to flood anyone. */
export const SUBSCRIBE_LIMIT: FormLimit = { name: 'subscribe', windowMs: 15 * 60_000, limit: 10 };

/**
 * Confirm, unsubscribe and preference links: 100 unknown or forged tokens per 10 minutes. A
 * token cannot be guessed anyway (128-bit HMAC); this keeps scanners from costing much.
 */
export const TOKEN_LIMIT: FormLimit = {
  name: 'token',
  windowMs: 10 * 60_000,
  limit: 100,
  failuresOnly: true,
};

/** Webhooks: 60 refused requests (bad signature, bad body) a minute per address. */
export const WEBHOOK_LIMIT: FormLimit = {
  name: 'webhook',
  windowMs: 60_000,
  limit: 60,
  failuresOnly: true,
};

export function formRateLimit(
  redis: Redis,
  queuePrefix: string,
  { name, windowMs, limit, failuresOnly = false }: FormLimit,
  /** How to answer once the limit is reached: the public pages' HTML 429 by default. */
  respond: RequestHandler = (_req, res) => sendError(res, 429),
): RateLimitRequestHandler {
  return rateLimit({
    windowMs,
    limit,
    skipSuccessfulRequests: failuresOnly,
    // The default key is the client IP (req.ip honours `trust proxy`), IPv6 grouped by /56.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // An X-Forwarded-For that TRUST_PROXY does not vouch for is ignored on purpose (the key is
    // the socket's address), not a misconfiguration worth a warning per request.
    validate: { xForwardedForHeader: false },
    store: new RedisStore({
      prefix: `${queuePrefix}:ratelimit:${name}:`,
      sendCommand: (command: string, ...args: string[]) =>
        redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: respond,
  });
}
