// Fault injection: PostgreSQL, the source of truth, restarts under a running campaign. A
// private cluster on its own port is stopped (every connection cut) and started again; the
// worker process must ride it out: nothing lost, nothing sent twice.
import { describe, expect, it } from 'vitest';
import * as faults from '../../helpers/faults.js';
import { startPostgresInstance, type PostgresInstance } from '../../helpers/servers.js';

let postgres: PostgresInstance;
const { world, worker } = faults.faultSuite('postgres', {
  env: async () => {
    postgres = await startPostgresInstance();
    return { DATABASE_URL: postgres.url('bulletin_faults') };
  },
  after: () => postgres?.stop(),
  timeoutMs: 120_000,
});

describe('PostgreSQL restarted mid-campaign', () => {
  it('the worker waits for it and finishes; every message arrives once', async () => {
    world.sink.behaviour.dataDelayMs = () => 10;
    const { counts } = await faults.faultMidCampaign(world, 400, () => postgres.restart(2_000));
    expect(counts.sent + counts.unknown).toBe(400);
    // The outcomes of a window in flight when the database went away are kept in memory and
    // written once it is back: nothing becomes `unknown` for a restart.
    expect(counts.unknown).toBe(0);
    expect(worker().child.exitCode).toBeNull();
  }, 180_000);
});
