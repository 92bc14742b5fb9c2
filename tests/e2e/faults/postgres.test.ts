// Fault injection: PostgreSQL, the source of truth, restarts under a running campaign. A
// private cluster on its own port is stopped (every connection cut) and started again; the
// worker process must ride it out: nothing lost, nothing sent twice.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/context.js';
import { messagesOf } from '../../helpers/fleet.js';
import {
  faultSuite,
  seedCampaign,
  send,
  verifyCampaign,
  waitForStatus,
} from '../../helpers/faults.js';
import { startPostgresInstance, type PostgresInstance } from '../../helpers/servers.js';

let postgres: PostgresInstance;
const { world, worker } = faultSuite('postgres', {
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
    const campaign = await seedCampaign(world, 400);
    await send(world, campaign);
    await waitFor(() => Promise.resolve(messagesOf(world.sink, campaign.uuid).length >= 80), {
      timeoutMs: 60_000,
      intervalMs: 5,
    });
    await postgres.restart(2_000);
    await waitForStatus(world, campaign, 'finished', 120_000);
    const { counts } = await verifyCampaign(world, campaign, { status: 'finished' });
    expect(counts.sent + counts.unknown).toBe(400);
    // The outcomes of a window in flight when the database went away are kept in memory and
    // written once it is back: nothing becomes `unknown` for a restart.
    expect(counts.unknown).toBe(0);
    expect(worker().child.exitCode).toBeNull();
  }, 180_000);
});
