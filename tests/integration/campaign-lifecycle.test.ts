// Pause, resume, cancel, suppression mid-send and the SMTP failure policy, against a real SMTP
// server that misbehaves on purpose.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { QUICK_SENDS, mailSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import * as fixtures from '../helpers/campaigns.js';

const suite = mailSuite({
  env: {
    ...QUICK_SENDS,
    MAX_ATTEMPTS: '5',
    MAX_SEND_ERRORS: '6',
  },
  resetSink: true,
});
const { ctx, sink } = suite;

const audience = (count: number) => suite.audience(count, 'List');
const finished = (id: number) => suite.finished(id, 90_000);

describe('pause and resume', () => {
  it('pausing and resuming three times sends each message once and none is missing', async () => {
    const { list } = await audience(600);
    // A really slow server (5 ms for each message's end of DATA): 600 take seconds, so every
    // pause lands mid-send; a pause that came too late fails the test.
    sink.behaviour.dataDelayMs = () => 5;
    const campaign = await suite.send([list]);
    for (let round = 1; round <= 3; round++) {
      const target = round * 120;
      await waitFor(() => Promise.resolve(sink.messages.length >= target), {
        timeoutMs: 60_000,
        intervalMs: 5,
      });
      const paused = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/pause`);
      expect(paused.status, `round ${round}`).toBe(200);
      expect(paused.body.status).toBe('paused');
      // Every job stops at its next window: once the queues are idle nothing can send, and
      // every message that did arrive is in the ledger.
      await drained(ctx);
      const { rows } = await ctx.db.query<{ sending: number; sent: number }>(
        `SELECT count(*) FILTER (WHERE status = 'sending')::int AS sending,
                count(*) FILTER (WHERE status = 'sent')::int AS sent
         FROM deliveries WHERE campaign_id = $1`,
        [campaign.id],
      );
      expect(rows[0]).toEqual({ sending: 0, sent: sink.messages.length });
      expect(sink.messages.length).toBeLessThan(600);
      expect((await ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`)).body.status).toBe(
        'running',
      );
    }
    sink.behaviour.dataDelayMs = undefined;
    await finished(campaign.id);
    const received = sink.byRecipient();
    expect(received.size).toBe(600);
    expect([...received.values()].every((m) => m.length === 1)).toBe(true);
    expect((await fixtures.ledger(ctx, campaign.id)).every((r) => r.status === 'sent')).toBe(true);
  });

  it('refuses illegal status changes with 409', async () => {
    const { list } = await audience(1);
    const campaign = await suite.draft([list]);
    const pause = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/pause`);
    expect(pause.status).toBe(409);
    expect(pause.body.code).toBe('illegal_transition');
    expect((await ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`)).status).toBe(409);
    expect((await ctx.api().post(`/api/v1/campaigns/${campaign.id}/retry`)).status).toBe(409);
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/cancel`).expect(200);
    expect((await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`)).status).toBe(409);
  });
});

describe('deliverability checked just before sending', () => {
  it('a subscriber who unsubscribes while the campaign runs receives nothing more (suppressed)', async () => {
    const { list, ids } = await audience(300);
    // The leaver is the last in the ledger; a slow server keeps them far from their turn.
    const leaver = ids[299]!;
    sink.behaviour.dataDelayMs = () => 10;
    const campaign = await suite.send([list]);
    await waitFor(() => Promise.resolve(sink.messages.length >= 1), { intervalMs: 2 });
    await ctx
      .api()
      .put(`/api/v1/subscribers/${leaver}/lists`)
      .send({ add: [list], status: 'unsubscribed' })
      .expect(200);
    expect(sink.messages.length).toBeLessThan(250);
    await finished(campaign.id);
    sink.behaviour.dataDelayMs = undefined;
    const rows = await fixtures.ledger(ctx, campaign.id);
    const row = rows.find((r) => r.subscriber_id === leaver)!;
    expect(row.status).toBe('suppressed');
    expect(sink.byRecipient().get(row.email)).toBeUndefined();
    expect(rows.filter((r) => r.status === 'sent')).toHaveLength(299);
    expect((await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body.stats).toMatchObject({
      sent: 299,
      suppressed: 1,
    });
  });
});

describe('SMTP failures', () => {
  it('retries 421 answers with backoff: every message delivered once, attempts recorded', async () => {
    const { list } = await audience(200);
    // 10% of recipients get 421 on their first two attempts.
    sink.behaviour.onRcpt = (to, attempt) =>
      /r\d*0@/.test(to) && attempt <= 2
        ? { code: 421, message: '4.3.2 Try again later' }
        : undefined;
    const campaign = await suite.send([list]);
    await finished(campaign.id);
    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    const slow = rows.filter((r) => /r\d*0@/.test(r.email));
    expect(slow).toHaveLength(20);
    expect(slow.map((r) => r.attempts)).toEqual(slow.map(() => 3));
    expect(rows.filter((r) => !/r\d*0@/.test(r.email)).every((r) => r.attempts === 1)).toBe(true);
    expect([...sink.byRecipient().values()].every((m) => m.length === 1)).toBe(true);
  });

  it('does not retry 550 5.1.1: the delivery is bounced and the subscriber suppressed', async () => {
    const { list, ids, prefix } = await audience(5);
    sink.behaviour.onRcpt = (to) =>
      to.startsWith(`${prefix}3@`) ? { code: 550, message: '5.1.1 User unknown' } : undefined;
    const campaign = await suite.send([list]);
    await finished(campaign.id);
    const rows = await fixtures.ledger(ctx, campaign.id);
    const bounced = rows.find((r) => r.subscriber_id === ids[2])!;
    expect(bounced, bounced.last_error ?? '').toMatchObject({ status: 'bounced', attempts: 1 });
    const { rows: sub } = await ctx.db.query('SELECT status FROM subscribers WHERE id = $1', [
      ids[2],
    ]);
    expect(sub[0].status).toBe('bounced');
    const { rows: events } = await ctx.db.query(
      'SELECT type, bounce_type, source FROM events WHERE subscriber_id = $1',
      [ids[2]],
    );
    expect(events).toEqual([{ type: 'bounce', bounce_type: 'hard', source: 'smtp' }]);
    const stats = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body.stats;
    expect(stats).toMatchObject({ sent: 4, bounced: 1 });
  });

  it('a 5.7.1 blocklist rejection fails the delivery but never suppresses the recipient', async () => {
    const { list, ids, prefix } = await audience(3);
    sink.behaviour.onRcpt = (to) =>
      to.startsWith(`${prefix}1@`)
        ? { code: 550, message: '5.7.1 Service unavailable; client host blocked using Spamhaus' }
        : undefined;
    const campaign = await suite.send([list]);
    await finished(campaign.id);
    const row = (await fixtures.ledger(ctx, campaign.id)).find((r) => r.subscriber_id === ids[0])!;
    expect(row.status).toBe('failed');
    const { rows: sub } = await ctx.db.query('SELECT status FROM subscribers WHERE id = $1', [
      ids[0],
    ]);
    expect(sub[0].status).toBe('active');
  });

  it('pauses itself after MAX_SEND_ERRORS consecutive authentication failures, with the reason', async () => {
    const { list } = await audience(40);
    sink.behaviour.authError = { code: 535, message: '5.7.8 Authentication credentials invalid' };
    sink.dropConnections(); // credentials revoked: pooled connections are gone too
    const campaign = await suite.send([list]);
    await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'paused', {
      timeoutMs: 60_000,
    });
    const paused = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body;
    expect(paused.statusReason).toMatch(/consecutive transport errors/);
    expect(paused.statusReason).toMatch(/535|[Aa]uthentication/);
    expect(sink.messages).toHaveLength(0);
    // A refused login is the server's fault, not the message's: no attempt was used up.
    await drained(ctx);
    const { rows: tried } = await ctx.db.query<{ attempts: number }>(
      'SELECT DISTINCT attempts FROM deliveries WHERE campaign_id = $1',
      [campaign.id],
    );
    expect(tried).toEqual([{ attempts: 0 }]);
    // Fixed: resume, and everything goes out once.
    sink.behaviour.authError = undefined;
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`).expect(200);
    await finished(campaign.id);
    expect(sink.byRecipient().size).toBe(40);
    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
  });
});
