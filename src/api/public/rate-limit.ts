// Limits form posts per client IP, counted in Redis so every API process shares the count. Keys
// carry QUEUE_PREFIX: deployments sharing a Redis keep separate counts.
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import type { Redis } from 'ioredis';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { sendError } from './layout.js';

export interface FormLimit {
  /** Counted separately from other limits (part of the Redis key). */
  name: string;
  windowMs: number;
  limit: number;
}

/** Subscribe form posts: enough for an office behind one address, too few to flood anyone. */
export const SUBSCRIBE_LIMIT: FormLimit = { name: 'subscribe', windowMs: 15 * 60_000, limit: 10 };

export function formRateLimit(
  redis: Redis,
  queuePrefix: string,
  { name, windowMs, limit }: FormLimit,
): RateLimitRequestHandler {
  return rateLimit({
    windowMs,
    limit,
    // The default key is the client IP (req.ip honours `trust proxy`), IPv6 grouped by /56.
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    store: new RedisStore({
      prefix: `${queuePrefix}:ratelimit:${name}:`,
      sendCommand: (command: string, ...args: string[]) =>
        redis.call(command, ...args) as Promise<RedisReply>,
    }),
    handler: (_req, res) => sendError(res, 429),
  });
}
