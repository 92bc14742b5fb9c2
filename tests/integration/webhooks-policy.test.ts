// The §4.3 policy as webhook events reach it: stored by the API, applied by the events worker.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Queues } from '../../src/queue/queues.js';
import { WebhookEventsService } from '../../src/services/webhook-events.service.js';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';
import { insertSubscriber, subscriberStatus } from '../helpers/webhooks.js';

const SECRET = 'policy-webhook-secret-0123456789';
let ctx: TestContext;
let seq = 0;

beforeAll(async () => {
  ctx = await createTestContext({ WEBHOOK_SECRET: SECRET, SOFT_BOUNCE_LIMIT: '3' });
  ctx.startWorkers();
});
afterAll(async () => {
  await ctx?.close();
});

type GenericEvent = Record<string, unknown> & { id?: string };

/** Sends events through the signed generic webhook and waits until the worker applied them. */
async function deliver(...events: GenericEvent[]) {
  const withIds = events.map((e) => ({ id: e.id ?? `policy-${++seq}`, ...e }));
  const body = JSON.stringify({ events: withIds });
  const t = Math.floor(Date.now() / 1000);
  const v1 = createHmac('sha256', SECRET).update(`${t}.${body}`).digest('hex');
  const res = await ctx.http
    .post('/webhooks/generic')
    .set('Content-Type', 'application/json')
    .set('Bulletin-Signature', `t=${t},v1=${v1}`)
    .send(body);
  expect(res.status).toBe(200);
  const ids = withIds.map((e) => e.id);
  await waitFor(async () => {
    const { rows } = await ctx.db.query(
      `SELECT count(*)::int AS n FROM events WHERE source = 'generic'
       AND provider_event_id = ANY($1) AND applied_at IS NOT NULL`,
      [ids],
    );
    return rows[0].n === ids.length;
  });
  const { rows } = await ctx.db.query(
    `SELECT provider_event_id, type, bounce_type, campaign_id, subscriber_id, reason
     FROM events WHERE source = 'generic' AND provider_event_id = ANY($1) ORDER BY id`,
    [ids],
  );
  return rows;
}

async function list(name: string): Promise<number> {
  const { rows } = await ctx.db.query('INSERT INTO lists (name) VALUES ($1) RETURNING id', [name]);
  return rows[0].id;
}

const subscriber = (listIds: number[] = []) =>
  insertSubscriber(ctx, `reader-${++seq}@example.org`, listIds);

const statusOf = (id: number) => subscriberStatus(ctx, id);

async function subscriptions(id: number) {
  const { rows } = await ctx.db.query(
    'SELECT list_id, status FROM subscriptions WHERE subscriber_id = $1 ORDER BY list_id',
    [id],
  );
  return rows;
}

describe('webhook policy', () => {
  it('a 5.1.1 hard bounce sets the subscriber bounced', async () => {
    const s = await subscriber();
    const [event] = await deliver({
      type: 'bounce',
      bounceType: 'hard',
      email: s.email,
      reason: '550-5.1.1 The email account that you tried to reach does not exist.',
    });
    expect(event).toMatchObject({ bounce_type: 'hard', subscriber_id: s.id });
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('soft bounces (4.2.2, 5.2.2) set the subscriber bounced only at SOFT_BOUNCE_LIMIT', async () => {
    const s = await subscriber();
    await deliver({
      type: 'bounce',
      bounceType: 'soft',
      email: s.email,
      reason: '452 4.2.2 The email account that you tried to reach is over quota.',
    });
    expect(await statusOf(s.id)).toBe('active');
    // Reported as hard by the sender, but x.2.2 (mailbox full) is soft (RFC 3463).
    const [second] = await deliver({
      type: 'bounce',
      bounceType: 'hard',
      email: s.email,
      reason: '552 5.2.2 Mailbox full',
    });
    expect(second.bounce_type).toBe('soft');
    expect(await statusOf(s.id)).toBe('active');
    await deliver({ type: 'bounce', bounceType: 'soft', email: s.email, reason: '4.2.2 quota' });
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('soft bounces older than SOFT_BOUNCE_WINDOW_DAYS do not count', async () => {
    const s = await subscriber();
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
    await deliver(
      { type: 'bounce', bounceType: 'soft', email: s.email, occurredAt: old },
      { type: 'bounce', bounceType: 'soft', email: s.email, occurredAt: old },
      { type: 'bounce', bounceType: 'soft', email: s.email },
    );
    expect(await statusOf(s.id)).toBe('active');
  });

  it.each([
    ['554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'],
    ['550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender'],
    ['550 Message rejected: sending IP is listed on a blocklist'],
  ])('a sender-blame rejection (%s) never suppresses the recipient', async (reason) => {
    const news = await list('Blame');
    const s = await subscriber([news]);
    const [event] = await deliver({ type: 'bounce', bounceType: 'hard', email: s.email, reason });
    expect(event.bounce_type).toBeNull();
    expect(event.reason).toContain('sender blamed');
    expect(await statusOf(s.id)).toBe('active');
    expect(await subscriptions(s.id)).toEqual([{ list_id: news, status: 'confirmed' }]);
  });

  it('a complaint sets complained and unsubscribes from every list', async () => {
    const a = await list('A');
    const b = await list('B');
    const s = await subscriber([a, b]);
    await deliver({ type: 'complaint', email: s.email });
    expect(await statusOf(s.id)).toBe('complained');
    expect(await subscriptions(s.id)).toEqual([
      { list_id: a, status: 'unsubscribed' },
      { list_id: b, status: 'unsubscribed' },
    ]);
  });

  it('an unsubscribe without a known campaign unsubscribes from every list', async () => {
    const a = await list('A');
    const b = await list('B');
    const s = await subscriber([a, b]);
    await deliver({ type: 'unsubscribe', email: s.email });
    expect(await statusOf(s.id)).toBe('active');
    expect((await subscriptions(s.id)).map((r) => r.status)).toEqual([
      'unsubscribed',
      'unsubscribed',
    ]);
  });

  it('events out of order never undo a suppression', async () => {
    const s = await subscriber();
    await deliver({ type: 'complaint', email: s.email });
    await deliver(
      { type: 'bounce', bounceType: 'hard', email: s.email },
      { type: 'bounce', bounceType: 'soft', email: s.email },
      { type: 'unsubscribe', email: s.email },
    );
    expect(await statusOf(s.id)).toBe('complained');
  });

  it('the Message-ID names the campaign and the subscriber; a hard bounce marks the ledger row', async () => {
    const news = await list('Newsletter');
    const other = await list('Other');
    const s = await subscriber([news, other]);
    const { rows } = await ctx.db.query(
      "INSERT INTO campaigns (name, subject, status) VALUES ('Q2', 'Q2', 'running') RETURNING id",
    );
    const campaignId = rows[0].id;
    await ctx.db.query(
      'INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES ($1, $2, 0)',
      [campaignId, news],
    );
    const messageId = `${randomUUID()}@bulletin.test`;
    await ctx.db.query(
      `INSERT INTO deliveries (campaign_id, subscriber_id, status, message_id, sent_at)
       VALUES ($1, $2, 'sent', $3, now())`,
      [campaignId, s.id, `<${messageId}>`],
    );
    const [unsub] = await deliver({ type: 'unsubscribe', email: s.email, messageId });
    expect(unsub).toMatchObject({ campaign_id: campaignId, subscriber_id: s.id });
    expect(await subscriptions(s.id)).toEqual([
      { list_id: news, status: 'unsubscribed' },
      { list_id: other, status: 'confirmed' },
    ]);
    const [bounce] = await deliver({
      type: 'bounce',
      bounceType: 'hard',
      email: s.email,
      messageId: `<${messageId}>`,
      reason: '550 5.1.1 user unknown',
    });
    expect(bounce.campaign_id).toBe(campaignId);
    const ledger = await ctx.db.query(
      'SELECT status, last_error FROM deliveries WHERE campaign_id = $1',
      [campaignId],
    );
    expect(ledger.rows).toEqual([{ status: 'bounced', last_error: '550 5.1.1 user unknown' }]);
  });

  it('an event stored while Redis lost its job is applied by the sweep', async () => {
    const s = await subscriber();
    const { rows } = await ctx.db.query(
      `INSERT INTO events (type, source, provider_event_id, subscriber_id, email, received_at)
       VALUES ('complaint', 'generic', $1, $2, $3, now() - interval '10 minutes') RETURNING id`,
      [`orphan-${s.id}`, s.id, s.email],
    );
    expect(await ctx.container.services.webhookEvents.sweep()).toBeGreaterThanOrEqual(1);
    await waitFor(async () => {
      const r = await ctx.db.query('SELECT applied_at FROM events WHERE id = $1', [rows[0].id]);
      return r.rows[0].applied_at;
    });
    expect(await statusOf(s.id)).toBe('complained');
  });

  it('answers for stored events even when queueing fails; the sweep applies them later', async () => {
    const s = await subscriber();
    const brokenQueues = {
      events: { addBulk: () => Promise.reject(new Error('Redis is down')) },
    } as unknown as Queues;
    const service = new WebhookEventsService(ctx.db, brokenQueues, ctx.container.log);
    const result = await service.ingest('generic', {
      events: [
        {
          type: 'complaint',
          bounceType: null,
          providerEventId: `lost-job-${s.id}`,
          email: s.email,
          messageId: null,
          campaign: null,
          reason: null,
          occurredAt: null,
          payload: {},
        },
      ],
      ignored: 0,
    });
    expect(result).toMatchObject({ stored: 1 });
    expect(await statusOf(s.id)).toBe('active');
    // Two sweep periods later, the real service finds it and the worker applies it.
    await ctx.container.services.webhookEvents.sweep(Date.now() + 5 * 60_000);
    await waitFor(async () => (await statusOf(s.id)) === 'complained');
  });

  it('schedules the sweep once per deployment', async () => {
    const scheduler = await ctx.container.queues.events.getJobScheduler('events-sweep');
    expect(scheduler).toMatchObject({ every: 60_000, name: 'sweep' });
  });
});
