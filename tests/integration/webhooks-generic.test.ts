// POST /webhooks/generic end to end: signed request → stored event → events worker → policy.
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { loadConfig } from '../../src/config.js';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { waitFor } from '../helpers/context.js';
import { contextSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';

const SECRET = 'generic-webhook-secret-0123456789';
const ctx = contextSuite({ WEBHOOK_SECRET: SECRET }, { workers: true });

function sign(body: string, { secret = SECRET, t = Math.floor(Date.now() / 1000) } = {}) {
  const v1 = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  return `t=${t},v1=${v1}`;
}

function post(body: string, signature = sign(body)) {
  return ctx.http
    .post('/webhooks/generic')
    .set('Content-Type', 'application/json')
    .set('Bulletin-Signature', signature)
    .send(body);
}

async function subscriber(email: string, listIds: number[] = []): Promise<number> {
  const { rows } = await ctx.db.query<{ id: number }>(
    'INSERT INTO subscribers (email) VALUES ($1) RETURNING id',
    [email],
  );
  const id = rows[0]!.id;
  for (const listId of listIds) {
    await ctx.db.query(
      "INSERT INTO subscriptions (list_id, subscriber_id, status) VALUES ($1, $2, 'confirmed')",
      [listId, id],
    );
  }
  return id;
}

async function list(name: string): Promise<number> {
  const { rows } = await ctx.db.query<{ id: number }>(
    'INSERT INTO lists (name) VALUES ($1) RETURNING id',
    [name],
  );
  return rows[0]!.id;
}

/** Everything a webhook could change, to compare before and after. */
async function world() {
  const { rows } = await ctx.db.query(
    `SELECT (SELECT count(*)::int FROM events) AS events,
            (SELECT count(*)::int FROM consent_records) AS consents,
            (SELECT json_agg(json_build_array(id, status) ORDER BY id) FROM subscribers) AS subscribers,
            (SELECT json_agg(json_build_array(list_id, subscriber_id, status) ORDER BY list_id, subscriber_id)
               FROM subscriptions) AS subscriptions`,
  );
  return rows[0];
}

async function applied(providerEventId: string) {
  return waitFor(async () => {
    const { rows } = await ctx.db.query(
      `SELECT * FROM events WHERE source = 'generic' AND provider_event_id = $1
       AND applied_at IS NOT NULL`,
      [providerEventId],
    );
    return rows[0];
  });
}

async function statusOf(id: number): Promise<string> {
  const { rows } = await ctx.db.query('SELECT status FROM subscribers WHERE id = $1', [id]);
  return rows[0].status;
}

describe('generic webhook', () => {
  it('applies a correctly signed hard bounce once; the same request again changes nothing', async () => {
    const id = await subscriber('Hard.Bounce@Example.org');
    const body = JSON.stringify({
      events: [
        {
          id: 'evt-hard-1',
          type: 'bounce',
          bounceType: 'hard',
          email: 'hard.bounce@EXAMPLE.org',
          reason: '550 5.1.1 <hard.bounce@example.org>: Recipient address rejected: User unknown',
          occurredAt: '2026-01-15T10:00:00Z',
        },
      ],
    });
    const signature = sign(body);
    const res = await post(body, signature);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 1, stored: 1, duplicates: 0, ignored: 0 });
    const event = await applied('evt-hard-1');
    expect(event).toMatchObject({
      type: 'bounce',
      bounce_type: 'hard',
      subscriber_id: id,
      email: 'hard.bounce@example.org',
    });
    expect(event.occurred_at.toISOString()).toBe('2026-01-15T10:00:00.000Z');
    expect(await statusOf(id)).toBe('bounced');

    const before = await world();
    const replay = await post(body, signature);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ stored: 0, duplicates: 1 });
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it.each([
    [
      'one changed byte in the body',
      (body: string) => ({ body: body.replace('complaint', 'complaino'), signature: sign(body) }),
    ],
    [
      'a signature made with another secret',
      (body: string) => ({ body, signature: sign(body, { secret: 'not-the-secret' }) }),
    ],
    [
      'a timestamp six minutes old',
      (body: string) => ({
        body,
        signature: sign(body, { t: Math.floor(Date.now() / 1000) - 360 }),
      }),
    ],
    [
      'a timestamp six minutes ahead',
      (body: string) => ({
        body,
        signature: sign(body, { t: Math.floor(Date.now() / 1000) + 360 }),
      }),
    ],
    [
      'a signature for another timestamp',
      (body: string) => ({
        body,
        signature: sign(body).replace(/t=(\d+)/, (_m, t: string) => `t=${Number(t) - 1}`),
      }),
    ],
    ['no signature header', (body: string) => ({ body, signature: '' })],
    ['a malformed header', (body: string) => ({ body, signature: 'v1=abc' })],
  ])('refuses %s with 401 and changes nothing', async (_name, tamper) => {
    const id = await subscriber(`victim-${Math.random().toString(36).slice(2)}@example.org`);
    const { rows } = await ctx.db.query('SELECT email FROM subscribers WHERE id = $1', [id]);
    const body = JSON.stringify({
      events: [{ id: `evt-forged-${id}`, type: 'complaint', email: rows[0].email }],
    });
    const before = await world();
    const forged = tamper(body);
    const req = ctx.http.post('/webhooks/generic').set('Content-Type', 'application/json');
    if (forged.signature) void req.set('Bulletin-Signature', forged.signature);
    const res = await req.send(forged.body);
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body).toMatchObject({ status: 401, code: 'unauthorized' });
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it('accepts any one of several v1 signatures (secret rotation)', async () => {
    await subscriber('rotation@example.org');
    const body = JSON.stringify({
      events: [{ id: 'evt-rotation', type: 'complaint', email: 'rotation@example.org' }],
    });
    const t = Math.floor(Date.now() / 1000);
    const old = createHmac('sha256', 'old-secret').update(`${t}.${body}`).digest('hex');
    const res = await post(body, `t=${t},v1=${old},${sign(body, { t }).split(',')[1]}`);
    expect(res.status).toBe(200);
    await applied('evt-rotation');
  });

  it.each([
    ['{"events": [', 'malformed_request', undefined],
    ['{"events": []}', 'validation_failed', 'events'],
    [
      JSON.stringify({ events: [{ id: 'x', type: 'opened', email: 'a@example.org' }] }),
      'validation_failed',
      'events.0.type',
    ],
    [
      JSON.stringify({ events: [{ id: 'x', type: 'bounce', email: 'not an address' }] }),
      'validation_failed',
      'events.0.email',
    ],
    [
      JSON.stringify({
        events: [{ id: 'x', type: 'complaint', email: 'a@example.org', bounceType: 'hard' }],
      }),
      'validation_failed',
      'events.0.bounceType',
    ],
    [
      JSON.stringify({
        events: [{ id: 'x', type: 'bounce', email: 'a@example.org', campaignId: 'abc' }],
      }),
      'validation_failed',
      'events.0.campaignId',
    ],
    [
      JSON.stringify({
        events: [{ id: 'x', type: 'bounce', email: 'a@example.org', occurredAt: 'yesterday' }],
      }),
      'validation_failed',
      'events.0.occurredAt',
    ],
    [
      JSON.stringify({
        events: [{ id: 'x', type: 'bounce', email: 'a@example.org', colour: 'red' }],
      }),
      'validation_failed',
      'events.0.colour',
    ],
  ])(
    'answers a signed but malformed body %s with 400 %s and stores nothing',
    async (body, code, path) => {
      const before = await world();
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body.code).toBe(code);
      if (path) expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
      expect(await world()).toEqual(before);
    },
  );

  it('resolves the campaign by uuid or numeric id and unsubscribes from its lists only', async () => {
    const news = await list('News');
    const events = await list('Events');
    const { rows } = await ctx.db.query<{ id: number; uuid: string }>(
      "INSERT INTO campaigns (name, subject) VALUES ('Q1', 'Q1') RETURNING id, uuid",
    );
    const campaign = rows[0]!;
    await ctx.db.query(
      'INSERT INTO campaign_lists (campaign_id, list_id, position) VALUES ($1, $2, 0)',
      [campaign.id, news],
    );
    const a = await subscriber('by-uuid@example.org', [news, events]);
    const b = await subscriber('by-id@example.org', [news, events]);
    const body = JSON.stringify({
      events: [
        {
          id: 'evt-unsub-uuid',
          type: 'unsubscribe',
          email: 'by-uuid@example.org',
          campaignId: campaign.uuid,
        },
        {
          id: 'evt-unsub-id',
          type: 'unsubscribe',
          email: 'by-id@example.org',
          campaignId: campaign.id,
        },
      ],
    });
    expect((await post(body)).status).toBe(200);
    expect((await applied('evt-unsub-uuid')).campaign_id).toBe(campaign.id);
    expect((await applied('evt-unsub-id')).campaign_id).toBe(campaign.id);
    const subs = await ctx.db.query(
      'SELECT subscriber_id, list_id, status FROM subscriptions WHERE subscriber_id = ANY($1) ORDER BY subscriber_id, list_id',
      [[a, b]],
    );
    expect(subs.rows).toEqual([
      { subscriber_id: a, list_id: news, status: 'unsubscribed' },
      { subscriber_id: a, list_id: events, status: 'confirmed' },
      { subscriber_id: b, list_id: news, status: 'unsubscribed' },
      { subscriber_id: b, list_id: events, status: 'confirmed' },
    ]);
    expect(await statusOf(a)).toBe('active');
    const consent = await ctx.db.query(
      "SELECT source, detail->>'source' AS via FROM consent_records WHERE subscriber_id = $1",
      [a],
    );
    expect(consent.rows).toEqual([{ source: 'webhook', via: 'generic' }]);
  });

  it('stores an event for an unknown address without changing anyone', async () => {
    const before = await world();
    const body = JSON.stringify({
      events: [{ id: 'evt-stranger', type: 'complaint', email: 'stranger@example.org' }],
    });
    expect((await post(body)).status).toBe(200);
    const event = await applied('evt-stranger');
    expect(event.subscriber_id).toBeNull();
    const after = await world();
    expect(after.events).toBe(before.events + 1);
    expect(after.subscribers).toEqual(before.subscribers);
  });
});

describe('webhooks without credentials', () => {
  it('answer 404 for every provider whose credential is unset', async () => {
    const bare = createApp({
      ...ctx.container,
      config: {
        ...ctx.config,
        // No provider configured: the defaults.
        webhooks: loadConfig({ env: {} }).webhooks,
      },
    });
    for (const source of ['generic', 'mailgun', 'sendgrid', 'ses', 'postmark']) {
      const res = await request(bare).post(`/webhooks/${source}`).send('{}');
      expect(res.status, source).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });
});
