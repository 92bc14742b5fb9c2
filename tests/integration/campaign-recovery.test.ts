// PostgreSQL is the source of truth: when Redis loses the jobs, the ledger says what is left.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { byRecipient, flushPrefix, messagesOf } from '../helpers/fleet.js';

const suite = mailSuite({
  env: {
    SMTP_POOL_SIZE: '2',
    WORKER_CONCURRENCY: '2',
    SEND_RATE: '300',
  },
  workers: false,
});
const { ctx, sink } = suite;

/** Starts a process's workers, waits until the campaign is finished, and stops them again. */
async function finishWithWorkers(campaignId: number): Promise<void> {
  const workers = ctx.startWorkers();
  try {
    await waitFor(async () => (await fixtures.campaignStatus(ctx, campaignId)) === 'finished', {
      timeoutMs: 60_000,
    });
  } finally {
    await workers.close();
  }
}

describe('recovery from the ledger', () => {
  it('finishes a campaign whose queued jobs Redis lost, sending each message once', async () => {
    const list = await fixtures.createList(ctx, 'Flushed');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'flush', 400));
    const campaign = await suite.draft([list]);
    const workers = ctx.startWorkers();
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    await waitFor(() => Promise.resolve(sink.messages.length >= 100), { intervalMs: 5 });
    // Stop the workers gracefully, then lose every job in Redis.
    await workers.close();
    for (const queue of ctx.container.queues.all()) await queue.obliterate({ force: true });
    expect(await fixtures.campaignStatus(ctx, campaign.id)).toBe('running');
    // A process starts: it rebuilds the queue from PostgreSQL.
    await ctx.container.reconcile();
    await finishWithWorkers(campaign.id);
    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(400);
    expect(sink.byRecipient().size).toBe(400);
    expect([...sink.byRecipient().values()].every((m) => m.length === 1)).toBe(true);
  });

  it('when Redis loses the jobs while every process keeps running, the sweep queues the rest again', async () => {
    const list = await fixtures.createList(ctx, 'Flushed live');
    // Six batches of 200 for two concurrent jobs: four of them wait in Redis when it is flushed.
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'live', 1200));
    const campaign = await suite.draft([list]);
    sink.messages.length = 0;
    const workers = ctx.startWorkers();
    try {
      await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
      await waitFor(() => Promise.resolve(sink.messages.length >= 100), { intervalMs: 5 });
      // Redis loses everything of this deployment; no process restarts.
      await flushPrefix(ctx.config.queuePrefix);
      await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished', {
        timeoutMs: 60_000,
      });
    } finally {
      await workers.close();
    }
    const rows = await fixtures.ledger(ctx, campaign.id);
    // Rows a job had in flight at the flush may be `unknown`; nothing is lost or sent twice.
    expect(rows.filter((r) => r.status !== 'sent' && r.status !== 'unknown')).toEqual([]);
    const received = sink.byRecipient();
    expect(received.size).toBe(rows.filter((r) => r.status === 'sent').length);
    expect([...received.values()].every((m) => m.length === 1)).toBe(true);
    const { rows: gen } = await ctx.db.query<{ generation: number }>(
      'SELECT generation FROM campaigns WHERE id = $1',
      [campaign.id],
    );
    expect(gen[0]!.generation).toBeGreaterThan(1);
  }, 90_000);

  it('a running campaign whose draw job Redis lost is drawn by the sweep, with no restart', async () => {
    const list = await fixtures.createList(ctx, 'Lost draw');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'lostdraw', 50));
    const campaign = await suite.draft([list]);
    sink.messages.length = 0;
    // Started while no worker runs: the draw job waits in Redis, and Redis loses it.
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    await flushPrefix(ctx.config.queuePrefix);
    expect(await ctx.container.queues.campaigns.count()).toBe(0);
    await ctx.container.services.campaigns.sweep(10 * 60_000);
    expect(await ctx.container.queues.campaigns.count()).toBe(1);
    // A second sweep finds the marker again: nothing more is queued.
    await ctx.container.services.campaigns.sweep(10 * 60_000);
    expect(await ctx.container.queues.campaigns.count()).toBe(1);
    await finishWithWorkers(campaign.id);
    expect(
      (await fixtures.ledger(ctx, campaign.id)).filter((r) => r.status === 'sent'),
    ).toHaveLength(50);
    expect(byRecipient(messagesOf(sink, campaign.uuid)).size).toBe(50);
  });

  it('a start-up reconcile queues the draw of a running campaign whose audience was not drawn', async () => {
    const list = await fixtures.createList(ctx, 'Reconcile draw');
    await fixtures.subscribe(ctx, list, await fixtures.seedSubscribers(ctx, 'recdraw', 30));
    const campaign = await suite.draft([list]);
    sink.messages.length = 0;
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(200);
    for (const queue of ctx.container.queues.all()) await queue.obliterate({ force: true });
    await ctx.container.reconcile();
    await finishWithWorkers(campaign.id);
    const received = byRecipient(messagesOf(sink, campaign.uuid));
    expect(received.size).toBe(30);
    expect([...received.values()].every((m) => m.length === 1)).toBe(true);
  });

  it('marks claims left by jobs that no longer exist as unknown, and then finishes', async () => {
    const list = await fixtures.createList(ctx, 'Ghost');
    const ids = await fixtures.seedSubscribers(ctx, 'ghost', 3);
    await fixtures.subscribe(ctx, list, ids);
    const campaign = await suite.draft([list]);
    // As if a job had claimed one row 11 minutes ago and its worker and Redis were lost since.
    await ctx.db.query(
      `UPDATE campaigns SET status = 'running', audience_drawn_at = now(), started_at = now() WHERE id = $1`,
      [campaign.id],
    );
    await ctx.db.query(
      `INSERT INTO deliveries (campaign_id, subscriber_id, status, attempts, claimed_by, claimed_at)
       SELECT $1, id, CASE WHEN id = $2 THEN 'sending' ELSE 'sent' END, 1,
              CASE WHEN id = $2 THEN 'batch-ghost' END, now() - interval '11 minutes'
       FROM unnest($3::bigint[]) id`,
      [campaign.id, ids[0], ids],
    );
    await ctx.container.services.campaigns.sweep(10 * 60_000);
    expect(await fixtures.campaignStatus(ctx, campaign.id)).toBe('finished');
    const row = (await fixtures.ledger(ctx, campaign.id)).find((r) => r.subscriber_id === ids[0])!;
    expect(row.status).toBe('unknown');
    // A recent claim is left alone: its job may still be sending.
    await ctx.db.query(
      `UPDATE deliveries SET status = 'sending', claimed_at = now() WHERE id = $1`,
      [row.id],
    );
    await ctx.db.query(
      `UPDATE campaigns SET status = 'running', finished_at = NULL WHERE id = $1`,
      [campaign.id],
    );
    await ctx.container.services.campaigns.sweep(10 * 60_000);
    expect(await fixtures.campaignStatus(ctx, campaign.id)).toBe('running');
  });
});
