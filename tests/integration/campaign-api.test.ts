// The campaign admin API (docs/contract.md §4.1): CRUD and validation, edit rules by status,
// preflight, test sends, the ledger endpoint, retry of failed deliveries, live and final stats,
// and token scopes — against a real SMTP server.
import { describe, expect, it } from 'vitest';
import { waitFor, postJsonText } from '../helpers/context.js';
import { QUICK_SENDS, mailSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';

const suite = mailSuite({
  env: {
    ...QUICK_SENDS,
  },
  resetSink: true,
});
const { ctx, sink } = suite;

const audience = (count: number) => suite.audience(count, 'API');

const finished = (id: number) => fixtures.waitForCampaign(ctx, id, 'finished', 60_000);

const isoInFuture = (value: unknown) =>
  typeof value === 'string' && !Number.isNaN(Date.parse(value)) && Date.parse(value) > Date.now();

describe('CRUD and validation', () => {
  it('creates, reads, pages, edits and deletes a draft', async () => {
    const { list } = await audience(2);
    const created = await ctx
      .api()
      .post('/api/v1/campaigns')
      .send({
        name: 'Spring issue',
        subject: 'Hello {{ subscriber.name }}',
        templateId: suite.templateId,
        listIds: [list],
        content: 'Text',
        contentType: 'markdown',
        fromName: 'The Secretariat',
        fromEmail: 'News@Bulletin.TEST',
        replyTo: 'replies@bulletin.test',
        data: { issue: 7 },
      });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.headers.location).toBe(`/api/v1/campaigns/${created.body.id}`);
    expect(created.body).toMatchObject({
      name: 'Spring issue',
      status: 'draft',
      templateId: suite.templateId,
      listIds: [list],
      fromEmail: 'News@bulletin.test', // the domain is lower-cased
      data: { issue: 7 },
      sendAt: null,
      startedAt: null,
      finishedAt: null,
      progress: 0,
      rate: 0,
      eta: null,
      stats: { recipients: 0, queued: 0, sent: 0, failed: 0, unknown: 0 },
    });
    expect(created.body.uuid).toMatch(/^[0-9a-f-]{36}$/);
    const id = created.body.id as number;
    expect((await ctx.api().get(`/api/v1/campaigns/${id}`)).body).toEqual(created.body);

    const patched = await ctx
      .api()
      .patch(`/api/v1/campaigns/${id}`)
      .send({ name: 'Spring issue (final)', replyTo: '', data: { issue: 8 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'Spring issue (final)',
      replyTo: null,
      data: { issue: 8 },
      subject: 'Hello {{ subscriber.name }}',
    });

    // Pages with a cursor, and a status filter.
    const second = await suite.draft([list]);
    const seen: number[] = [];
    let next: string | null = null;
    do {
      const url: string = `/api/v1/campaigns?limit=1${next ? `&after=${next}` : ''}`;
      const page = await ctx.api().get(url);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(1);
      seen.push(...page.body.data.map((c: { id: number }) => c.id));
      next = page.body.next;
    } while (next);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual(expect.arrayContaining([id, second.id]));
    await ctx.api().post(`/api/v1/campaigns/${second.id}/cancel`).expect(200);
    const cancelled = await ctx.api().get('/api/v1/campaigns?status=cancelled');
    expect(cancelled.body.data.map((c: { id: number }) => c.id)).toContain(second.id);
    expect(cancelled.body.data.map((c: { id: number }) => c.id)).not.toContain(id);
    expect((await ctx.api().get('/api/v1/campaigns?status=nonsense')).status).toBe(400);

    await ctx.api().delete(`/api/v1/campaigns/${id}`).expect(204);
    const gone = await ctx.api().get(`/api/v1/campaigns/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers['content-type']).toMatch(/application\/problem\+json/);
    expect((await ctx.api().delete(`/api/v1/campaigns/${id}`)).status).toBe(404);
  });

  it('422 for an unknown list or template (with the path), 400 for malformed fields', async () => {
    const { list } = await audience(1);
    const base = { name: 'x', subject: 'x', templateId: suite.templateId, listIds: [list] };
    const post = (body: Record<string, unknown>) => ctx.api().post('/api/v1/campaigns').send(body);

    const noList = await post({ ...base, listIds: [list, 987654] });
    expect(noList.status).toBe(422);
    expect(noList.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(noList.body).toMatchObject({ status: 422, errors: [{ path: 'listIds.1' }] });
    const noTemplate = await post({ ...base, templateId: 987654 });
    expect(noTemplate.status).toBe(422);
    expect(noTemplate.body.errors).toEqual([expect.objectContaining({ path: 'templateId' })]);

    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, fromEmail: 'not an address' }, 'fromEmail'],
      [{ ...base, replyTo: 'a@b@c' }, 'replyTo'],
      [{ ...base, colour: 'blue' }, 'colour'],
      [{ ...base, name: '' }, 'name'],
      [{ ...base, name: undefined }, 'name'],
      [{ ...base, listIds: [] }, 'listIds'],
      [{ ...base, templateId: 'one' }, 'templateId'],
      [{ ...base, contentType: 'html' }, 'contentType'],
      [{ ...base, data: [1, 2] }, 'data'],
    ];
    for (const [body, path] of cases) {
      const res = await post(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.code, JSON.stringify(body)).toBe('validation_failed');
      expect(
        res.body.errors.map((e: { path: string }) => e.path),
        JSON.stringify(res.body),
      ).toContain(path);
    }
    const unknownField = await post({ ...base, colour: 'blue' });
    expect(unknownField.body.errors[0]).toEqual({
      path: 'colour',
      message: 'is not a known field',
    });
    const malformed = await postJsonText(ctx, '/api/v1/campaigns', '{"name": ');
    expect(malformed.status).toBe(400);

    // The same rules on PATCH.
    const c = await suite.draft([list]);
    const patch = (body: Record<string, unknown>) =>
      ctx.api().patch(`/api/v1/campaigns/${c.id}`).send(body);
    expect((await patch({ colour: 'blue' })).status).toBe(400);
    expect((await patch({ fromEmail: 'nope' })).status).toBe(400);
    const badList = await patch({ listIds: [987654] });
    expect(badList.status).toBe(422);
    expect(badList.body.errors).toEqual([expect.objectContaining({ path: 'listIds.0' })]);
    expect((await patch({ templateId: 987654 })).status).toBe(422);
    expect((await ctx.api().patch('/api/v1/campaigns/987654').send({ name: 'y' })).status).toBe(
      404,
    );
    expect((await ctx.api().get('/api/v1/campaigns/abc')).status).toBe(400);
  });
});

describe('edit rules while running and paused', () => {
  it('refuses content edits and deletion while running or paused, allows other fields while paused; live stats', async () => {
    const { list, prefix } = await audience(150);
    // A slow receiver keeps the campaign running long enough to look at it.
    sink.behaviour.dataDelayMs = (to) => (to.startsWith(prefix) ? 40 : 0);
    const campaign = await fixtures.createCampaign(ctx, {
      templateId: suite.templateId,
      listIds: [list],
      fromName: 'Old Sender',
      replyTo: 'old@bulletin.test',
    });
    const started = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`);
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ status: 'running' });
    expect(started.body.startedAt).not.toBeNull();
    const patch = (body: Record<string, unknown>) =>
      ctx.api().patch(`/api/v1/campaigns/${campaign.id}`).send(body);

    // Running: nothing may change, and it cannot be deleted or started twice.
    for (const body of [{ content: 'New' }, { subject: 'New' }, { name: 'New' }]) {
      const res = await patch(body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.code).toBe('illegal_transition');
      expect(res.body.status).toBe(409);
    }
    expect((await ctx.api().delete(`/api/v1/campaigns/${campaign.id}`)).status).toBe(409);
    const again = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`).expect(409);
    // The problem's `status` stays the HTTP status; the campaign's is an extension member.
    expect(again.body).toMatchObject({ status: 409, campaignStatus: 'running' });

    // Live progress: once some are out, a rate and an ETA in the future.
    await waitFor(() => Promise.resolve(messagesOf(sink, campaign.uuid).length >= 20));
    const live = (await ctx.api().get(`/api/v1/campaigns/${campaign.id}`)).body;
    expect(live.status).toBe('running');
    expect(live.stats.recipients).toBe(150);
    expect(live.stats.sent).toBeGreaterThan(0);
    expect(live.stats.queued + live.stats.sending).toBeGreaterThan(0);
    expect(live.progress).toBeGreaterThan(0);
    expect(live.progress).toBeLessThan(1);
    expect(live.rate).toBeGreaterThan(0);
    expect(isoInFuture(live.eta), String(live.eta)).toBe(true);

    const paused = await ctx.api().post(`/api/v1/campaigns/${campaign.id}/pause`);
    expect(paused.body.status).toBe('paused');
    for (const body of [
      { content: 'New' },
      { contentType: 'mjml' },
      { subject: 'New' },
      { templateId: suite.templateId },
      { listIds: [list] },
    ]) {
      expect((await patch(body)).status, JSON.stringify(body)).toBe(409);
    }
    expect((await ctx.api().delete(`/api/v1/campaigns/${campaign.id}`)).status).toBe(409);
    const edited = await patch({
      name: 'Renamed while paused',
      fromName: 'New Sender',
      replyTo: 'new@bulletin.test',
    });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      status: 'paused',
      name: 'Renamed while paused',
      fromName: 'New Sender',
      replyTo: 'new@bulletin.test',
    });
    // Pause stops new SMTP transactions: once the jobs have ended nothing is in flight, and
    // the ledger holds every message that arrived.
    await drained(ctx);
    const sentBeforeResume = messagesOf(sink, campaign.uuid).length;
    expect(sentBeforeResume).toBeLessThan(150);
    const inFlight = await ctx.db.query(
      "SELECT 1 FROM deliveries WHERE campaign_id = $1 AND status = 'sending'",
      [campaign.id],
    );
    expect(inFlight.rowCount).toBe(0);

    sink.behaviour.dataDelayMs = undefined;
    await ctx.api().post(`/api/v1/campaigns/${campaign.id}/resume`).expect(200);
    await finished(campaign.id);
    const messages = messagesOf(sink, campaign.uuid);
    expect(new Set(messages.map((m) => m.to)).size).toBe(150);
    expect(messages).toHaveLength(150);
    // The sender fields accepted while paused are what the rest of the campaign goes out with.
    const late = messages.slice(sentBeforeResume);
    expect(late.length).toBeGreaterThan(0);
    expect(
      late.map((m) => [m.headers.get('from'), m.headers.get('reply-to')])[0],
      'fromName/replyTo edits accepted (200) while paused must apply after resume',
    ).toEqual([
      expect.stringMatching(/^"?New Sender"? <news@bulletin\.test>$/),
      'new@bulletin.test',
    ]);
  });
});

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
