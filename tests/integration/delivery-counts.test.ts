// The per-campaign delivery counters (docs/campaigns.md, "Progress") agree with the ledger
// itself after everything that changes it: a send over many connections with refusals, a
// hard bounce reported later, a retry, a subscriber's erasure, a campaign's deletion; and
// the campaign's GET answers from them.
import { describe, expect, it } from 'vitest';
import { mailSuite } from '../helpers/suite.js';

const suite = mailSuite({
  env: { SMTP_POOL_SIZE: '6', WORKER_CONCURRENCY: '6', RETRY_BASE_DELAY_MS: '100' },
  resetSink: true,
});

/** What counting the ledger gives, and what the counters say, per status (zeros left out). */
async function both(campaignId: number) {
  const ledger = await suite.ctx.db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM deliveries WHERE campaign_id = $1
      GROUP BY status ORDER BY status`,
    [campaignId],
  );
  const counters = await suite.ctx.db.query<{ status: string; n: number }>(
    `SELECT status, sum(n)::int AS n FROM delivery_counts WHERE campaign_id = $1
      GROUP BY status HAVING sum(n) <> 0 ORDER BY status`,
    [campaignId],
  );
  const sentMinutes = await suite.ctx.db.query<{ n: number }>(
    'SELECT COALESCE(sum(n), 0)::int AS n FROM delivery_sent_minutes WHERE campaign_id = $1',
    [campaignId],
  );
  const of = (rows: { status: string; n: number }[]) =>
    Object.fromEntries(rows.map((r) => [r.status, r.n]));
  return {
    ledger: of(ledger.rows),
    counters: of(counters.rows),
    sentMinutes: sentMinutes.rows[0]!.n,
  };
}

describe('the delivery counters', () => {
  it('match the ledger through a send with refusals, a later bounce, a retry and an erasure', async () => {
    const readers = await suite.audience(300, 'Counted');
    const refused = new Set([5, 50, 150].map((n) => `${readers.prefix}${n}@example.test`));
    suite.sink.behaviour.onRcpt = (to) =>
      refused.has(to) ? { code: 550, message: '5.7.1 blocked using Spamhaus' } : undefined;
    const campaign = await suite.send([readers.list]);
    expect(await suite.finished(campaign.id)).toBe(true);
    let seen = await both(campaign.id);
    expect(seen.ledger).toEqual({ failed: 3, sent: 297 });
    expect(seen.counters).toEqual(seen.ledger);
    expect(seen.sentMinutes).toBe(297);

    const shown = await suite.ctx.api().get(`/api/v1/campaigns/${campaign.id}`).expect(200);
    expect(shown.body.stats).toMatchObject({ recipients: 300, sent: 297, failed: 3, queued: 0 });

    // A hard bounce for one sent message, reported later by the relay.
    await suite.ctx.db.query(
      "UPDATE deliveries SET status = 'bounced' WHERE campaign_id = $1 AND subscriber_id = $2",
      [campaign.id, readers.ids[0]],
    );
    // The receiver lifts the block; retry re-sends the failed ones.
    suite.sink.behaviour.onRcpt = undefined;
    await suite.ctx.api().post(`/api/v1/campaigns/${campaign.id}/retry`).expect(200);
    expect(await suite.finished(campaign.id)).toBe(true);
    // One reader erased: their row stays, without them.
    await suite.ctx.db.query('DELETE FROM subscribers WHERE id = $1', [readers.ids[9]]);
    seen = await both(campaign.id);
    expect(seen.ledger).toEqual({ bounced: 1, sent: 299 });
    expect(seen.counters).toEqual(seen.ledger);
    expect(seen.sentMinutes).toBe(299);
  });

  it('go with their campaign when it is deleted', async () => {
    const readers = await suite.audience(20, 'Deleted');
    const campaign = await suite.send([readers.list]);
    expect(await suite.finished(campaign.id)).toBe(true);
    expect((await both(campaign.id)).counters).toEqual({ sent: 20 });
    await suite.ctx.db.query('DELETE FROM campaigns WHERE id = $1', [campaign.id]);
    const left = await suite.ctx.db.query(
      `SELECT 1 FROM delivery_counts WHERE campaign_id = $1
       UNION ALL SELECT 1 FROM delivery_sent_minutes WHERE campaign_id = $1`,
      [campaign.id],
    );
    expect(left.rows).toEqual([]);
  });
});
