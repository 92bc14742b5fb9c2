// A campaign over two overlapping lists goes to every eligible subscriber exactly once, through
// a real SMTP server, with the ledger matching what the server received.
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/context.js';
import { mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';

const { ctx, sink } = mailSuite({
  env: {
    SMTP_POOL_SIZE: '5',
    WORKER_CONCURRENCY: '4',
  },
});

describe('sending a campaign', () => {
  it('delivers exactly one personalised message to each eligible subscriber of two overlapping lists', async () => {
    const { lists, excluded } = await fixtures.overlappingAudience(ctx);
    const [a, b] = lists as [number, number];
    const templateId = await fixtures.createTemplate(ctx);
    const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [a, b] });

    const preflight = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/preflight`);
    expect(preflight.body).toMatchObject({
      ok: true,
      audience: 1960,
      missingUnsubscribeLink: false,
    });

    const started = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`);
    expect(started.status).toBe(200);
    expect(started.body.status).toBe('running');
    await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished', {
      timeoutMs: 120_000,
      intervalMs: 200,
    });

    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows).toHaveLength(1960);
    expect(rows.filter((r) => r.status !== 'sent').map((r) => [r.status, r.last_error])).toEqual(
      [],
    );
    const excludedIds = new Set(Object.values(excluded).flat());
    expect(rows.some((r) => excludedIds.has(r.subscriber_id))).toBe(false);

    const received = sink.byRecipient();
    expect(received.size).toBe(1960);
    for (const [, messages] of received) expect(messages).toHaveLength(1);
    // The ledger's Message-IDs are the ones the server received.
    const sinkIds = new Set(sink.messages.map((m) => m.messageId));
    expect(new Set(rows.map((r) => r.message_id))).toEqual(sinkIds);

    const sample = received.get('reader900@example.test')![0]!;
    expect(sample.subject).toBe('News for Reader 900');
    expect(sample.html).toContain('Hello Reader 900 (City 900) from Members');
    expect(sample.html).toContain('<strong>much</strong>');
    expect(sample.text).toContain('Reader 900');
    const h = sample.headers;
    expect(h.get('from')).toContain('news@bulletin.test');
    expect(h.get('to')).toContain('reader900@example.test');
    expect(h.get('list-unsubscribe')).toMatch(/^<http:\/\/localhost:3000\/unsubscribe\/[\w.-]+>$/);
    expect(h.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    // The list the reader is on, named (RFC 2919): mail clients show and filter by it.
    expect(h.get('list-id')).toMatch(/^"Members" <list-\d+\.bulletin\.test>$/);
    expect(h.get('precedence')).toBe('bulk');
    expect(h.get('feedback-id')).toBeTruthy();
    expect(h.get('x-bulletin-campaign')).toBe(campaign.uuid);
    expect(h.get('content-type')).toMatch(/multipart\/alternative/);

    const final = await ctx.api().get(`/api/v1/campaigns/${campaign.id}`);
    expect(final.body.status).toBe('finished');
    expect(final.body.listIds).toEqual([a, b]);
    expect(final.body.stats).toMatchObject({
      recipients: 1960,
      sent: 1960,
      queued: 0,
      sending: 0,
      failed: 0,
    });
    expect(final.body.progress).toBe(1);
  });
});
