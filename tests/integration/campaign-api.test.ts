// The campaign admin API (docs/contract.md §4.1): CRUD and validation, and the edit rules by
// status (the rest of the campaign API: campaign-sending-api.test.ts) — against a real SMTP
// server.
import { describe, expect, it } from 'vitest';
import { waitFor, postJsonText } from '../helpers/context.js';
import { QUICK_SENDS, mailSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import * as fixtures from '../helpers/campaigns.js';
import { messagesOf } from '../helpers/fleet.js';

const suite = mailSuite({ env: QUICK_SENDS, resetSink: true });
const { ctx, sink } = suite;

const audience = (count: number) => suite.audience(count, 'API');

const finished = (id: number) => suite.finished(id, 60_000);

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
