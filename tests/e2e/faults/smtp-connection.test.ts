// Fault injection: the SMTP connection itself misbehaves. The connection drops in the middle of
// DATA; the server stops answering altogether; every login is refused. A real worker process
// sends, and every scenario ends with the ledger-equals-sink check.
import { describe, expect, it } from 'vitest';
import {
  DELIVERY_LOCK_MS,
  DELIVERY_STALLED_INTERVAL_MS,
} from '../../../workers/delivery.worker.js';
import { waitFor } from '../../helpers/context.js';
import * as faults from '../../helpers/faults.js';
import { messagesOf } from '../../helpers/fleet.js';

const { world, worker } = faults.faultSuite('connection', {
  // Generous retries: the silent server below stays silent for longer than the job lock.
  workerEnv: { MAX_ATTEMPTS: '30', RETRY_BASE_DELAY_MS: '250', MAX_SEND_ERRORS: '12' },
  resetSink: true,
});

/** Rows of the campaign that met an SMTP error (here: the silent server's timeouts). */
async function timedOutAttempts(campaignId: number): Promise<number> {
  const { rows } = await world.ctx.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM deliveries
     WHERE campaign_id = $1 AND last_error IS NOT NULL`,
    [campaignId],
  );
  return rows[0]!.n;
}

describe('a connection lost before the reply to the end of DATA', () => {
  it('dropped mid-DATA on the first attempt: retried, and only the retry arrives', async () => {
    const picked = (to: string) => Number(/r(\d+)@/.exec(to)?.[1]) % 3 === 0;
    world.sink.behaviour.dropInData = (to, attempt) => picked(to) && attempt === 1;
    const campaign = await faults.seedCampaign(world, 45);
    await faults.send(world, campaign);
    await faults.waitForStatus(world, campaign, 'finished');
    const { rows } = await faults.verifyCampaign(world, campaign, {
      status: 'finished',
      counts: { sent: 45 },
    });
    // A drop may also cut other messages sharing that connection's turn: those are retried
    // too, but every picked one needed at least a second attempt.
    for (const r of rows.filter((x) => picked(x.email))) {
      expect(r.attempts, r.email).toBeGreaterThanOrEqual(2);
    }
  });
});

describe('a server that stops answering', () => {
  it('silent for longer than the job lock: attempts time out, the job keeps its lock, nothing is unknown, all arrive once after it recovers', async () => {
    const campaign = await faults.seedCampaign(world, 30);
    // Half the audience is through, then the server goes silent mid-conversation.
    world.sink.behaviour.dataDelayMs = () => 20;
    await faults.send(world, campaign);
    await waitFor(() => Promise.resolve(messagesOf(world.sink, campaign.uuid).length >= 10), {
      intervalMs: 5,
    });
    world.sink.behaviour.silent = true;
    const silentAt = Date.now();
    // Silent until attempts have timed out against it, and for longer than the delivery job's
    // lock plus one stalled check: a job whose lock lapsed would be taken for stalled and run
    // again, and its rows in flight would turn `unknown`.
    await waitFor(
      async () =>
        Date.now() - silentAt > DELIVERY_LOCK_MS + DELIVERY_STALLED_INTERVAL_MS &&
        (await timedOutAttempts(campaign.id)) > 0,
      { timeoutMs: 120_000, intervalMs: 250 },
    );
    world.sink.behaviour.silent = false;
    world.sink.dropConnections(); // hung connections go; new ones get a greeting
    await faults.waitForStatus(world, campaign, 'finished', 90_000);
    const { rows } = await faults.verifyCampaign(world, campaign, {
      status: 'finished',
      counts: { sent: 30, unknown: 0 },
    });
    expect(rows.some((r) => r.attempts > 1)).toBe(true);
    expect(
      worker()
        .logs()
        .filter((l) => l.event === 'deliveries_unknown'),
    ).toEqual([]);
    // The job kept its lock all along: no run of it was taken for stalled.
    expect(
      worker()
        .logs()
        .filter((l) => l.event === 'job_stalled'),
    ).toEqual([]);
    expect(Date.now() - silentAt).toBeGreaterThan(DELIVERY_LOCK_MS);
  }, 150_000);
});

describe('a server that refuses every login', () => {
  it('535 on every connection: the campaign pauses itself with the reason, and resumes after the fix with no duplicate', async () => {
    world.sink.behaviour.authError = {
      code: 535,
      message: '5.7.8 Authentication credentials invalid',
    };
    // Sessions that logged in before keep working on a real server too: cut them, so that
    // every connection from now on must log in (and is refused).
    world.sink.dropConnections();
    const campaign = await faults.seedCampaign(world, 40);
    await faults.send(world, campaign);
    await faults.waitForStatus(world, campaign, 'paused', 60_000);
    const paused = (await world.ctx.api().get(`/api/v1/campaigns/${campaign.id}`).expect(200)).body;
    expect(JSON.stringify(paused)).toMatch(/consecutive transport errors.*5\.7\.8|535/);
    expect(messagesOf(world.sink, campaign.uuid)).toEqual([]);
    await faults.verifyCampaign(world, campaign, {
      status: 'paused',
      counts: { sent: 0, unknown: 0 },
    });

    // The operator fixes the credentials, then resumes.
    world.sink.behaviour.authError = undefined;
    await world.ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`).expect(200);
    await faults.waitForStatus(world, campaign, 'finished', 60_000);
    const { rows } = await faults.verifyCampaign(world, campaign, {
      status: 'finished',
      counts: { sent: 40 },
    });
    // Login failures never used up a message's attempts.
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  }, 150_000);
});
