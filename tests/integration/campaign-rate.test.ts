// A campaign's `rate` and `eta`: messages per second over the last minute, or since the start
// when the send began less than a minute ago.
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { CampaignsRepository } from '../../src/db/repositories/campaigns.repository.js';

const ctx = contextSuite();

/** A running campaign of 400 recipients, started `startedSecondsAgo` ago, 100 of them sent. */
async function halfwayCampaign(startedSecondsAgo: number) {
  const list = await fixtures.createList(ctx, `Rate ${startedSecondsAgo}`);
  const ids = await fixtures.seedSubscribers(ctx, `rate${startedSecondsAgo}r`, 400);
  await fixtures.subscribe(ctx, list, ids);
  const campaign = await fixtures.createCampaign(ctx, {
    templateId: await fixtures.createTemplate(ctx),
    listIds: [list],
  });
  await ctx.db.query(
    `UPDATE campaigns SET status = 'running', started_at = now() - make_interval(secs => $2)
      WHERE id = $1`,
    [campaign.id, startedSecondsAgo],
  );
  await ctx.db.query(
    `INSERT INTO deliveries (campaign_id, subscriber_id, status, sent_at)
     SELECT $1, s, CASE WHEN s <= $3 THEN 'sent' ELSE 'queued' END,
            CASE WHEN s <= $3 THEN now() - interval '1 second' END
       FROM unnest($2::bigint[]) AS s`,
    [campaign.id, ids, ids[99]],
  );
  return (await new CampaignsRepository(ctx.db).findById(campaign.id))!;
}

describe('rate and ETA', () => {
  it('ten seconds into a send, the rate is over those ten seconds', async () => {
    const campaign = await halfwayCampaign(10);
    const now = new Date();
    const report = await ctx.container.services.campaignReport.report(campaign, now);
    // 100 sent in ~10 s: ~10/s, not 100/60.
    expect(report.rate).toBeGreaterThan(8);
    expect(report.rate).toBeLessThanOrEqual(10.5);
    // 300 left at ~10/s: about half a minute, not three.
    const etaSeconds = (Date.parse(report.eta!) - now.getTime()) / 1000;
    expect(etaSeconds).toBeGreaterThan(25);
    expect(etaSeconds).toBeLessThan(40);
  });

  it('after the first minute, the rate is over the last minute', async () => {
    const campaign = await halfwayCampaign(600);
    const report = await ctx.container.services.campaignReport.report(campaign, new Date());
    expect(report.rate).toBeCloseTo(100 / 60, 1);
  });

  it('a finished campaign reports its achieved average, hours later too, and no ETA', async () => {
    const campaign = await halfwayCampaign(601);
    // 100 sent over the 200 seconds the send took, finished two hours ago.
    await ctx.db.query(
      `UPDATE deliveries SET status = 'sent', sent_at = now() - interval '2 hours' WHERE campaign_id = $1 AND status = 'sent'`,
      [campaign.id],
    );
    await ctx.db.query(`DELETE FROM deliveries WHERE campaign_id = $1 AND status = 'queued'`, [
      campaign.id,
    ]);
    await ctx.db.query(
      `UPDATE campaigns SET status = 'finished', started_at = now() - interval '2 hours 200 seconds',
         finished_at = now() - interval '2 hours' WHERE id = $1`,
      [campaign.id],
    );
    const finished = (await new CampaignsRepository(ctx.db).findById(campaign.id))!;
    const report = await ctx.container.services.campaignReport.report(finished, new Date());
    expect(report.rate).toBeCloseTo(100 / 200, 2);
    expect(report.eta).toBeNull();
  });
});
