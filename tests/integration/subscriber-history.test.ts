import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';

const ctx = contextSuite();

describe("a subscriber's history", () => {
  it('shows consent records and feedback events in one timeline, page by page', async () => {
    const list = (await ctx.api().post('/api/v1/lists').send({ name: 'History' })).body.id;
    const s = (
      await ctx
        .api()
        .post('/api/v1/subscribers')
        .set('User-Agent', 'test-agent')
        .send({ email: 'hist@example.org', lists: [list] })
    ).body;
    await ctx
      .api()
      .put(`/api/v1/subscribers/${s.id}/lists`)
      .send({ add: [list], status: 'unsubscribed' });
    await ctx.container.services.feedback.record({
      type: 'bounce',
      bounceType: 'hard',
      source: 'generic',
      providerEventId: 'hist-1',
      subscriberId: s.id,
      email: s.email,
      reason: '5.1.1 user unknown',
    });
    const first = await ctx.api().get(`/api/v1/subscribers/${s.id}/events?limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(2);
    expect(first.body.next).toBeTruthy();
    const rest = await ctx
      .api()
      .get(`/api/v1/subscribers/${s.id}/events?limit=10&after=${first.body.next}`);
    const all = [...first.body.data, ...rest.body.data];
    expect(rest.body.next).toBeNull();
    expect(
      all.map((e: { kind: string; type: string }) => `${e.kind}:${e.type}`),
      JSON.stringify(all),
    ).toEqual(['consent:subscribe', 'consent:unsubscribe', 'event:bounce', 'consent:status']);
    expect(all[0]).toMatchObject({
      source: 'api',
      listId: list,
      status: 'confirmed',
      userAgent: 'test-agent',
    });
    expect(all[2]).toMatchObject({
      source: 'generic',
      bounceType: 'hard',
      reason: '5.1.1 user unknown',
    });
    expect(all[3]).toMatchObject({ status: 'bounced', source: 'webhook' });
  });

  it('answers 404 for an unknown subscriber and 400 for a bad cursor', async () => {
    expect((await ctx.api().get('/api/v1/subscribers/999999/events')).status).toBe(404);
    const s = (await ctx.api().post('/api/v1/subscribers').send({ email: 'cursor@example.org' }))
      .body;
    const bad = await ctx.api().get(`/api/v1/subscribers/${s.id}/events?after=bm9wZQ`);
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].path).toBe('after');
  });
});
