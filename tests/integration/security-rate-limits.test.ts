// Rate limits on public routes, shared through Redis and keyed by client address: the subscribe
// form counts every post; links and webhooks count only refused requests, so a scanner is
// slowed while real clicks, one-click unsubscribes and provider deliveries never are.
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { createList, seedSubscribers, subscribe } from '../helpers/campaigns.js';
import { worldState } from '../helpers/webhooks.js';

const WEBHOOK_SECRET = 'rate-limit-webhook-secret-0123456789';
let ctx: TestContext;
let uuids: string[];
let subscriberIds: number[];
beforeAll(async () => {
  ctx = await createTestContext({
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    WEBHOOK_SECRET,
  });
  const list = await createList(ctx, 'Limits');
  subscriberIds = await seedSubscribers(ctx, 'limit', 3, 'limits.test');
  await subscribe(ctx, list, subscriberIds);
  const { rows } = await ctx.db.query<{ uuid: string }>(
    'SELECT uuid FROM subscribers WHERE id = ANY($1::bigint[]) ORDER BY id',
    [subscriberIds],
  );
  uuids = rows.map((r) => r.uuid);
});
afterAll(async () => {
  await ctx?.close();
});

const link = (uuid: string) => ctx.container.services.links.token('unsubscribe', uuid);
const from = (ip: string) => ({ 'X-Forwarded-For': ip });

describe('signed links', () => {
  it('real links are never limited, however many come from one address', async () => {
    for (let i = 0; i < 130; i++) {
      const res = await ctx.http.get(`/unsubscribe/${link(uuids[0]!)}`).set(from('198.51.100.1'));
      expect(res.status, `click ${i + 1}`).toBe(200);
    }
  });

  it('after 100 refused links an address gets 429 with Retry-After; nothing changes; other addresses are unaffected', async () => {
    const before = await worldState(ctx);
    for (let i = 0; i < 100; i++) {
      const res = await ctx.http.get(`/unsubscribe/forged-${i}`).set(from('203.0.113.9'));
      expect(res.status).toBe(404);
    }
    const blocked = await ctx.http
      .post(`/unsubscribe/${link(uuids[1]!)}`)
      .set(from('203.0.113.9'))
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(blocked.type).toBe('text/html');
    expect(await worldState(ctx)).toEqual(before);

    // The same one-click unsubscribe from the mail provider's own address goes through.
    const provider = await ctx.http
      .post(`/unsubscribe/${link(uuids[1]!)}`)
      .set(from('192.0.2.77'))
      .type('form')
      .send('List-Unsubscribe=One-Click');
    expect(provider.status).toBe(200);
    const { rows } = await ctx.db.query<{ status: string }>(
      'SELECT status FROM subscriptions WHERE subscriber_id = $1',
      [subscriberIds[1]],
    );
    expect(rows.map((r) => r.status)).toEqual(['unsubscribed']);
  });

  it('confirm and preferences links share the count: once blocked, genuine ones change nothing either', async () => {
    const pending = await createList(ctx, 'Pending', 'double');
    await subscribe(ctx, pending, [subscriberIds[2]!], 'unconfirmed');
    const subscriptions = async () =>
      (
        await ctx.db.query(
          'SELECT list_id, subscriber_id, status FROM subscriptions ORDER BY list_id, subscriber_id',
        )
      ).rows;
    const ip = from('203.0.113.10');
    for (let i = 0; i < 50; i++) {
      expect((await ctx.http.get(`/confirm/forged-${i}`).set(ip)).status).toBe(404);
      const res = await ctx.http
        .post(`/preferences/forged-${i}`)
        .set(ip)
        .type('form')
        .send('action=unsubscribe-all');
      expect(res.status).toBe(404);
    }
    const before = { world: await worldState(ctx), subscriptions: await subscriptions() };
    const token = (purpose: 'confirm' | 'preferences') =>
      ctx.container.services.links.token(purpose, uuids[2]!);
    const confirm = await ctx.http.get(`/confirm/${token('confirm')}`).set(ip);
    const prefs = await ctx.http
      .post(`/preferences/${token('preferences')}`)
      .set(ip)
      .type('form')
      .send('action=unsubscribe-all');
    for (const res of [confirm, prefs]) {
      expect(res.status).toBe(429);
      expect(res.type).toBe('text/html');
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect({ world: await worldState(ctx), subscriptions: await subscriptions() }).toEqual(before);
    // From another address the same confirmation link works.
    expect(
      (await ctx.http.get(`/confirm/${token('confirm')}`).set(from('192.0.2.78'))).status,
    ).toBe(200);
  });
});

describe('webhooks', () => {
  const sign = (body: string, t = Math.floor(Date.now() / 1000)) =>
    `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${body}`).digest('hex')}`;
  const body = (id: string) =>
    JSON.stringify({
      events: [{ id, type: 'bounce', bounceType: 'hard', email: 'limit3@limits.test' }],
    });

  it('after 60 refused deliveries in a minute an address gets a 429 problem; a provider elsewhere is unaffected', async () => {
    const before = await worldState(ctx);
    for (let i = 0; i < 60; i++) {
      const res = await ctx.http
        .post('/webhooks/generic')
        .set(from('203.0.113.50'))
        .set('Content-Type', 'application/json')
        .set('Bulletin-Signature', `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}`)
        .send(body(`forged-${i}`));
      expect(res.status).toBe(401);
    }
    const signed = body('genuine-1');
    const blocked = await ctx.http
      .post('/webhooks/generic')
      .set(from('203.0.113.50'))
      .set('Content-Type', 'application/json')
      .set('Bulletin-Signature', sign(signed))
      .send(signed);
    expect(blocked.status).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(blocked.body).toMatchObject({ status: 429 });
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    expect(await worldState(ctx)).toEqual(before);

    // The count lives in Redis: another API process (a fresh app, fresh limiters) agrees.
    const other = await request(createApp(ctx.container))
      .post('/webhooks/generic')
      .set(from('203.0.113.50'))
      .set('Content-Type', 'application/json')
      .set('Bulletin-Signature', sign(signed))
      .send(signed);
    expect(other.status).toBe(429);
    const keys = await ctx.container.redis.keys(`${ctx.config.queuePrefix}:ratelimit:webhook:*`);
    expect(keys.length).toBeGreaterThan(0);

    const provider = await ctx.http
      .post('/webhooks/generic')
      .set(from('192.0.2.200'))
      .set('Content-Type', 'application/json')
      .set('Bulletin-Signature', sign(signed))
      .send(signed);
    expect(provider.status).toBe(200);
  });
});
