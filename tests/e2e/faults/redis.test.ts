// Fault injection: Redis goes away under a running campaign. A private Redis server (configured
// as docs/operations.md recommends: append-only file, noeviction) is restarted, then another
// one loses all its data. PostgreSQL is the source of truth (docs/contract.md §5): nothing is lost,
// nothing is sent twice.
import { describe, expect, it } from 'vitest';
import * as faults from '../../helpers/faults.js';
import { startRedisInstance, type RedisInstance } from '../../helpers/servers.js';

let redis: RedisInstance;
const { world, worker } = faults.faultSuite('redis', {
  env: async () => {
    redis = await startRedisInstance();
    return { REDIS_URL: redis.url };
  },
  after: () => redis?.stop(),
});

describe('Redis restarted mid-campaign', () => {
  it('the worker reconnects and finishes; every message arrives once', async () => {
    world.sink.behaviour.dataDelayMs = () => 10;
    const { counts } = await faults.faultMidCampaign(world, 400, () => redis.restart(1_500));
    // A message is `unknown` only if its outcome could not be recorded: Redis going away must
    // not do that (the ledger lives in PostgreSQL).
    expect(counts).toMatchObject({ sent: 400, unknown: 0 });
    expect(worker().child.exitCode).toBeNull();
  }, 180_000);
});

describe('Redis flushed mid-campaign', () => {
  it('the jobs are gone; the campaign is queued again from the ledger and finishes without a duplicate', async () => {
    // More batches than the worker runs at once: some jobs wait in Redis when it is flushed.
    world.sink.behaviour.dataDelayMs = () => 5;
    const { counts } = await faults.faultMidCampaign(world, 1000, () => redis.flushAll());
    expect(counts.sent + counts.unknown).toBe(1000);
    expect(
      worker()
        .logs()
        .some((l) => l.event === 'campaign_requeued'),
    ).toBe(true);
    expect(worker().child.exitCode).toBeNull();
  }, 180_000);
});
