import type { Redis } from 'ioredis';
import { ping, type Pool } from '../db/pool.js';
import type { MailTransport } from '../mail/transport.js';
import { sharedRead } from '../lib/shared-read.js';

export interface ReadyReport {
  ok: boolean;
  checks: Record<'postgres' | 'redis' | 'smtp', { ok: boolean; error?: string }>;
}

const TIMEOUT_MS = 3000;
/** SMTP checks open a connection: a load balancer polling /ready must not hammer the relay. */
const SMTP_CACHE_MS = 10_000;
/** Probes arriving together (or a flood of anonymous ones) share one round of checks. */
const READY_CACHE_MS = 1000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what} did not answer in ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

export class HealthService {
  private smtpCache: { at: number; result: { ok: boolean; error?: string } } | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly transport: MailTransport,
  ) {}

  readonly ready: () => Promise<ReadyReport> = sharedRead(() => this.checkAll(), READY_CACHE_MS);

  private async checkAll(): Promise<ReadyReport> {
    const [postgres, redis, smtp] = await Promise.all([
      this.check(() => ping(this.pool), 'PostgreSQL'),
      this.check(() => {
        // Commands wait in ioredis's offline queue while disconnected: answer from the status.
        if (this.redis.status !== 'ready') {
          return Promise.reject(new Error(`Redis connection is ${this.redis.status}`));
        }
        return this.redis.ping();
      }, 'Redis'),
      this.smtp(),
    ]);
    return { ok: postgres.ok && redis.ok && smtp.ok, checks: { postgres, redis, smtp } };
  }

  private async smtp() {
    const now = Date.now();
    if (this.smtpCache && now - this.smtpCache.at < SMTP_CACHE_MS) return this.smtpCache.result;
    const result = await this.check(() => this.transport.verify(), 'SMTP');
    this.smtpCache = { at: now, result };
    return result;
  }

  private async check(fn: () => Promise<unknown>, what: string) {
    try {
      await withTimeout(fn(), what);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }
}
