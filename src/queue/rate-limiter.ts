// SEND_RATE across every worker process: a per-second counter in Redis, keyed by Redis's own
// clock (so workers on machines with skewed clocks still share one second). Each message takes
// a slot in the current second; when the second is full the caller waits for the next one.
import type { Redis } from 'ioredis';

// Returns { count in this second, microseconds left in this second }.
const TAKE = `
local t = redis.call('TIME')
local key = KEYS[1] .. ':' .. t[1]
local n = redis.call('INCR', key)
if n == 1 then redis.call('PEXPIRE', key, 2000) end
return { n, 1000000 - tonumber(t[2]) }`;

export interface RateLimiter {
  take(): Promise<void>;
}

export function createRateLimiter(redis: Redis, prefix: string, perSecond: number): RateLimiter {
  if (perSecond <= 0) return { take: () => Promise.resolve() };
  return {
    async take() {
      for (;;) {
        const [n, microsLeft] = (await redis.eval(TAKE, 1, `${prefix}:rate`)) as [number, number];
        if (n <= perSecond) return;
        // Wait for the next second, plus a little jitter so workers do not stampede.
        const wait = Math.ceil(microsLeft / 1000) + Math.floor(Math.random() * 10);
        await new Promise((r) => setTimeout(r, wait));
      }
    },
  };
}
