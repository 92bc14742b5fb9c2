// The campaign admin API (docs/contract.md §4.1), around the send: preflight, test sends, the
// ledger endpoint, retry of failed deliveries, live and final stats, and token scopes — against
// a real SMTP server.
import { describe, expect, it } from 'vitest';
import { QUICK_SENDS, mailSuite } from '../helpers/suite.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';

const suite = mailSuite({ env: QUICK_SENDS, resetSink: true });
const { ctx, sink } = suite;

const audience = (count: number) => suite.audience(count, 'Sending');

const finished = (id: number) => suite.finished(id, 60_000);

describe('preflight', () => {
  it('reports the audience after suppressions, unknown merge tags, and a missing unsubscribe link', async () => {
    const a = await fixtures.createList(ctx, 'Preflight A');
    const b = await fixtures.createList(ctx, 'Preflight B');
    const ids = await fixtures.seedSubscribers(ctx, 'pf', 12);
    await fixtures.subscribe(ctx, a, ids.slice(0, 10));
    await fixtures.subscribe(ctx, b, ids.slice(5)); // 5 of them on both lists
    await ctx.db.query("UPDATE subscribers SET status = 'bounced' WHERE id = ANY($1::bigint[])", [
      ids.slice(0, 2),
    ]);
    await ctx.db.query(
      "UPDATE subscribers SET status = 'complained' WHERE id = ANY($1::bigint[])",
      [ids.slice(2, 3)],
    );
    await fixtures.subscribe(ctx, a, ids.slice(3, 4), 'unsubscribed');
    await fixtures.subscribe(ctx, a, ids.slice(4, 5), 'unconfirmed');
    // 12 people, 5 excluded → 7, each counted once.

    const nickname = await ctx
      .api()
      .post('/api/v1/templates')
      .send({
        name: 'nickname',
        mjml: fixtures.MINIMAL_MJML.replace('Hello', 'Hello {{ subscriber.nickname }} /'),
      });
    expect(nickname.status, JSON.stringify(nickname.body)).toBe(201);
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: nickname.body.id,
      listIds: [a, b],
      subject: 'For {{ campaign.data.audience }} {{ list.title }}',
    });
    const report = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/preflight`);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      ok: false,
      audience: 7,
      missingUnsubscribeLink: false,
      mjmlWarnings: expect.any(Array),
    });
    expect(report.body.unknownMergeTags).toEqual(['list.title', 'subscriber.nickname']);
    expect(report.body.htmlBytes).toBeGreaterThan(500);
    expect(report.body.problems.join(' ')).toContain('subscriber.nickname');

    // A template without any unsubscribe or preference link is saved (with a warning) but
    // cannot be sent.
    const linkless = await ctx.api().post('/api/v1/templates').send({
      name: 'no links',
      mjml: '<mjml><mj-body><mj-section><mj-column><mj-text>Hi {{ subscriber.name }}</mj-text>{{ content }}</mj-column></mj-section></mj-body></mjml>',
    });
    expect(linkless.status, JSON.stringify(linkless.body)).toBe(201);
    expect(linkless.body.warnings.join(' ')).toMatch(/unsubscribe_url/);
    const noLinks = await fixtures.createCampaign(ctx, {
      templateId: linkless.body.id,
      listIds: [a],
    });
    const noLinksReport = (await ctx.api().get(`/api/v1/campaigns/${noLinks.id}/preflight`)).body;
    expect(noLinksReport).toMatchObject({ ok: false, missingUnsubscribeLink: true, audience: 5 });
    const refused = await ctx.api().post(`/api/v1/campaigns/${noLinks.id}/send`);
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'templateId' })]);
    expect(
      (
        await ctx
          .api()
          .post(`/api/v1/campaigns/${noLinks.id}/schedule`)
          .send({ sendAt: '2099-01-01T09:00' })
      ).status,
    ).toBe(422);
    expect(await fixtures.campaignStatus(ctx, noLinks.id)).toBe('draft');
    expect(await fixtures.ledger(ctx, noLinks.id)).toEqual([]);

    // A clean campaign passes.
    const clean = await suite.draft([a, b]);
    expect((await ctx.api().get(`/api/v1/campaigns/${clean.id}/preflight`)).body).toMatchObject({
      ok: true,
      audience: 7,
      unknownMergeTags: [],
      missingUnsubscribeLink: false,
      problems: [],
    });
  });
});

describe('test sends', () => {
  it('sends to at most ten addresses, prefixed [Test], without one-click, outside the ledger', async () => {
    const { list, prefix } = await audience(3);
    const campaign = await suite.draft([list]);
    const known = `${prefix}2@example.test`;
    const res = await ctx
      .api()
      .post(`/api/v1/campaigns/${campaign.id}/test`)
      .send({ emails: [known, 'editor@example.test', 'editor@EXAMPLE.test'] });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const expected = ['editor@example.test', known].sort();
    expect(res.body.sent.map((s: { email: string }) => s.email).sort()).toEqual(expected);
    expect(sink.messages.map((m) => m.to).sort()).toEqual(expected);
    for (const m of sink.messages) {
      expect(m.subject).toMatch(/^\[Test\] News for /);
      expect(m.headers.has('list-unsubscribe-post')).toBe(false);
      expect(res.body.sent.map((s: { messageId: string }) => s.messageId)).toContain(m.messageId);
    }
    // A known address sees its own data.
    const mine = sink.messages.find((m) => m.to === known)!;
    expect(mine.subject).toBe('[Test] News for Reader 2');
    // The production message otherwise: the campaign's list by name (not a list called
    // "Test"), List-Id, List-Unsubscribe and Precedence as every recipient gets them.
    const listName = (await ctx.api().get(`/api/v1/lists/${list}`)).body.name as string;
    expect(mine.html).toContain(`from ${listName}`);
    expect(mine.html).not.toContain('from Test<');
    expect(mine.headers.get('list-id')).toContain(`"${listName}"`);
    expect(mine.headers.get('list-unsubscribe')).toMatch(/\/unsubscribe\//);
    expect(mine.headers.get('precedence')).toBe('bulk');
    // Not in the ledger, and the campaign is still a draft.
    expect(await fixtures.ledger(ctx, campaign.id)).toEqual([]);
    const after = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body;
    expect(after).toMatchObject({ status: 'draft', stats: { recipients: 0, sent: 0 } });

    const eleven = Array.from({ length: 11 }, (_, i) => `t${i}@example.test`);
    const tooMany = await ctx
      .api()
      .post(`/api/v1/campaigns/${campaign.id}/test`)
      .send({ emails: eleven });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors).toEqual([expect.objectContaining({ path: 'emails' })]);
    const ten = await ctx
      .api()
      .post(`/api/v1/campaigns/${campaign.id}/test`)
      .send({ emails: eleven.slice(0, 10) });
    expect(ten.status).toBe(200);
    expect(ten.body.sent).toHaveLength(10);
    for (const emails of [[], ['not-an-address'], 'editor@example.test']) {
      const bad = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/test`).send({ emails });
      expect(bad.status, JSON.stringify(emails)).toBe(400);
    }
    expect(sink.messages).toHaveLength(12);
  });

  it('sends once to addresses that differ only in letter case (emails are case-insensitive)', async () => {
    const { list } = await audience(1);
    const campaign = await suite.draft([list]);
    const res = await ctx
      .api()
      .post(`/api/v1/campaigns/${campaign.id}/test`)
      .send({ emails: ['editor@example.test', 'Editor@EXAMPLE.test'] });
    expect(res.status).toBe(200);
    // src/services/test-send.service.ts dedupes with a case-sensitive Set after normalizeEmail,
    // which lower-cases only the domain: the same mailbox gets two test mails.
    expect(
      sink.messages.map((m) => m.to),
      'one test mail per mailbox',
    ).toEqual(['editor@example.test']);
  });
});

describe('the ledger, retry and final stats', () => {
  it('lists deliveries by status with pagination; retry re-sends the failed ones once fixed', async () => {
    const { list, prefix } = await audience(30);
    const refused = new Set([3, 7, 11, 19].map((n) => `${prefix}${n}@example.test`));
    sink.behaviour.onRcpt = (to) =>
      refused.has(to)
        ? { code: 550, message: '5.7.1 Service unavailable; client host blocked using Spamhaus' }
        : undefined;
    const campaign = await suite.send([list]);
    await finished(campaign.id);

    const done = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body;
    expect(done).toMatchObject({
      status: 'finished',
      progress: 1,
      eta: null,
      stats: { recipients: 30, sent: 26, failed: 4, queued: 0, sending: 0, unknown: 0 },
    });
    expect(typeof done.rate).toBe('number');
    expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));

    const failed = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/deliveries?status=failed`);
    expect(failed.status).toBe(200);
    expect(failed.body.next).toBeNull();
    expect(failed.body.data.map((d: { email: string }) => d.email).sort()).toEqual(
      [...refused].sort(),
    );
    for (const d of failed.body.data) {
      expect(d).toMatchObject({ status: 'failed', attempts: 1, messageId: null, sentAt: null });
      expect(d.lastError).toMatch(/5\.7\.1/);
    }
    // The whole ledger, ten at a time, in id order, each row once.
    const pages: { id: number; status: string; messageId: string | null }[][] = [];
    let next: string | null = null;
    do {
      const url: string = `/api/v1/campaigns/${campaign.id}/deliveries?limit=10${next ? `&after=${next}` : ''}`;
      const page = await ctx.api().get(url);
      expect(page.status).toBe(200);
      pages.push(page.body.data);
      next = page.body.next;
    } while (next);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 10]);
    const all = pages.flat();
    expect(all.map((d) => d.id)).toEqual([...new Set(all.map((d) => d.id))].sort((x, y) => x - y));
    const sentRows = all.filter((d) => d.status === 'sent');
    expect(sentRows).toHaveLength(26);
    expect(new Set(sentRows.map((d) => d.messageId))).toEqual(
      new Set(messagesOf(sink, campaign.uuid).map((m) => m.messageId)),
    );
    const sentOnly = await ctx
      .api()
      .get(`/api/v1/campaigns/${campaign.id}/deliveries?status=sent&limit=1000`);
    expect(sentOnly.body.data).toHaveLength(26);
    for (const query of ['status=lost', 'limit=0', 'limit=1001', 'after=%%%']) {
      const bad = await ctx.api().get(`/api/v1/campaigns/${campaign.id}/deliveries?${query}`);
      expect(bad.status, query).toBe(400);
    }
    expect((await ctx.api().get('/api/v1/campaigns/987654/deliveries')).status).toBe(404);

    // The receiver lifts the block; retry re-sends exactly the failed ones.
    sink.behaviour.onRcpt = undefined;
    const retried = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body.status).toBe('running');
    await finished(campaign.id);
    const received = sink.byRecipient();
    expect(received.size).toBe(30);
    expect([...received.values()].every((m) => m.length === 1)).toBe(true);
    const rows = await fixtures.ledger(ctx, campaign.id);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(rows.filter((r) => refused.has(r.email)).map((r) => r.attempts)).toEqual([2, 2, 2, 2]);

    const final = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body;
    expect(final).toMatchObject({
      status: 'finished',
      progress: 1,
      eta: null,
      stats: { recipients: 30, sent: 30, failed: 0, queued: 0, sending: 0 },
    });
    const s = final.stats;
    expect(s.queued + s.sending + s.sent + s.failed + s.bounced + s.suppressed + s.unknown).toBe(
      s.recipients,
    );
    // Nothing left to retry.
    const again = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/retry`);
    expect(again.status).toBe(409);
  });
});

describe('scopes', () => {
  async function token(scopes: string[]): Promise<string> {
    const res = await ctx
      .api()
      .post('/api/v1/tokens')
      .send({ name: scopes.join(' '), scopes });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.token as string;
  }
  const as = (bearer: string) => ({
    get: (url: string) => ctx.http.get(url).set('Authorization', `Bearer ${bearer}`),
    post: (url: string, body: object = {}) =>
      ctx.http.post(url).set('Authorization', `Bearer ${bearer}`).send(body),
    patch: (url: string, body: object) =>
      ctx.http.patch(url).set('Authorization', `Bearer ${bearer}`).send(body),
    delete: (url: string) => ctx.http.delete(url).set('Authorization', `Bearer ${bearer}`),
  });

  it('campaigns:write creates and edits but cannot send; campaigns:send sends but cannot edit', async () => {
    const { list } = await audience(2);
    const writer = as(await token(['read', 'campaigns:write']));
    const sender = as(await token(['read', 'campaigns:send']));
    const sendOnly = as(await token(['campaigns:send']));
    const body = { name: 'Scoped', subject: 'Hi', templateId: suite.templateId, listIds: [list] };

    const created = await writer.post('/api/v1/campaigns', body);
    expect(created.status).toBe(201);
    const id = created.body.id as number;
    expect((await writer.patch(`/api/v1/campaigns/${id}`, { name: 'Scoped 2' })).status).toBe(200);
    expect((await writer.get(`/api/v1/campaigns/${id}/preflight`)).status).toBe(200);
    for (const action of ['send', 'pause', 'resume', 'cancel', 'retry']) {
      const res = await writer.post(`/api/v1/campaigns/${id}/${action}`);
      expect(res.status, action).toBe(403);
      expect(res.body.code).toBe('forbidden');
    }
    expect(
      (await writer.post(`/api/v1/campaigns/${id}/test`, { emails: ['t@example.test'] })).status,
    ).toBe(403);
    expect(
      (await writer.post(`/api/v1/campaigns/${id}/schedule`, { sendAt: '2099-01-01T09:00' }))
        .status,
    ).toBe(403);

    expect((await sender.post('/api/v1/campaigns', body)).status).toBe(403);
    expect((await sender.patch(`/api/v1/campaigns/${id}`, { name: 'No' })).status).toBe(403);
    expect((await sender.delete(`/api/v1/campaigns/${id}`)).status).toBe(403);
    expect((await sendOnly.get(`/api/v1/campaigns/${id}`)).status).toBe(403); // needs read
    const sent = await sender.post(`/api/v1/campaigns/${id}/send`);
    expect(sent.status, JSON.stringify(sent.body)).toBe(200);
    await finished(id);
    expect(await fixtures.ledger(ctx, id)).toHaveLength(2);
    expect((await sender.get(`/api/v1/campaigns/${id}/deliveries`)).body.data).toHaveLength(2);

    expect((await ctx.http.get('/api/v1/campaigns')).status).toBe(401);
    expect(
      (await ctx.http.get('/api/v1/campaigns').set('Authorization', 'Bearer bt_nope')).status,
    ).toBe(401);
  });
});
