// POST /webhooks/sendgrid: the Signed Event Webhook (ECDSA P-256 over timestamp + body) with
// event arrays shaped like SendGrid's Event Webhook Reference.
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import { webhookTools } from '../helpers/webhooks.js';

const ours = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const theirs = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const ctx = contextSuite(
  {
    // As the SendGrid console shows it: base64 of the DER SubjectPublicKeyInfo.
    SENDGRID_WEBHOOK_PUBLIC_KEY: ours.publicKey
      .export({ type: 'spki', format: 'der' })
      .toString('base64'),
  },
  { workers: true },
);

function signed(
  body: string,
  { key = ours.privateKey, timestamp = Math.floor(Date.now() / 1000) } = {},
) {
  const ts = String(timestamp);
  const signature = sign('sha256', Buffer.from(ts + body), key).toString('base64');
  return { ts, signature };
}

function post(body: string, headers = signed(body)) {
  const req = ctx.http.post('/webhooks/sendgrid').set('Content-Type', 'application/json');
  if (headers.signature) void req.set('X-Twilio-Email-Event-Webhook-Signature', headers.signature);
  if (headers.ts) void req.set('X-Twilio-Email-Event-Webhook-Timestamp', headers.ts);
  return req.send(body);
}

const sgMessageId = () => `${randomBytes(6).toString('hex')}.filter0001.16648.5515E0B88.0`;
const sgEventId = () => randomBytes(16).toString('base64');

function event(kind: string, email: string, smtpId: string, extra: object = {}) {
  return {
    email,
    timestamp: Math.floor(Date.now() / 1000),
    'smtp-id': `<${smtpId}>`,
    event: kind,
    category: ['newsletter'],
    sg_event_id: sgEventId(),
    sg_message_id: sgMessageId(),
    ...extra,
  };
}

const { subscriber, statusOf, allApplied, world, subscriptionsOf } = webhookTools(() => ctx, 'sg');

describe('sendgrid webhook', () => {
  it('applies a signed batch once; the same request again changes nothing', async () => {
    const bounced = await subscriber();
    const complainer = await subscriber();
    const body = JSON.stringify([
      event('processed', bounced.email, `${randomUUID()}@bulletin.test`),
      event('bounce', bounced.email, `${randomUUID()}@bulletin.test`, {
        bounce_classification: 'Invalid Address',
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        status: '5.1.1',
        type: 'bounce',
        tls: 1,
      }),
      event('spamreport', complainer.email, `${randomUUID()}@bulletin.test`),
      event('open', complainer.email, `${randomUUID()}@bulletin.test`, {
        useragent: 'Mozilla/5.0',
        ip: '192.0.2.10',
        sg_machine_open: false,
      }),
    ]);
    const headers = signed(body);
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 4, stored: 2, duplicates: 0, ignored: 2 });
    await allApplied();
    expect(await statusOf(bounced.id)).toBe('bounced');
    expect(await statusOf(complainer.id)).toBe('complained');

    const before = await world();
    const replay = await post(body, headers);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ stored: 0, duplicates: 2 });
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it.each([
    [
      'one changed byte in the body',
      (body: string) => ({ body: body.replace('spamreport', 'spamreporu'), headers: signed(body) }),
    ],
    [
      'a signature by another key',
      (body: string) => ({ body, headers: signed(body, { key: theirs.privateKey }) }),
    ],
    [
      'a changed timestamp header',
      (body: string) => {
        const h = signed(body);
        return { body, headers: { ...h, ts: String(Number(h.ts) + 1) } };
      },
    ],
    [
      'a timestamp ten minutes old',
      (body: string) => ({
        body,
        headers: signed(body, { timestamp: Math.floor(Date.now() / 1000) - 600 }),
      }),
    ],
    ['no signature headers', (body: string) => ({ body, headers: { ts: '', signature: '' } })],
    [
      'a signature that is not DER',
      (body: string) => ({ body, headers: { ...signed(body), signature: 'bm90IGEgc2lnbmF0dXJl' } }),
    ],
  ])('refuses %s with 401 and changes nothing', async (_name, tamper) => {
    const s = await subscriber();
    const body = JSON.stringify([event('spamreport', s.email, `${randomUUID()}@bulletin.test`)]);
    const before = await world();
    const forged = tamper(body);
    const res = await post(forged.body, forged.headers);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it('treats blocked bounces as the sender’s problem and deferred as nothing', async () => {
    const s = await subscriber();
    const body = JSON.stringify([
      event('deferred', s.email, `${randomUUID()}@bulletin.test`, {
        response: '400 try again later',
        attempt: '5',
      }),
      event('bounce', s.email, `${randomUUID()}@bulletin.test`, {
        type: 'blocked',
        bounce_classification: 'Reputation',
        reason: '554 5.7.1 Service unavailable; Client host blocked using Spamhaus',
        status: '5.7.1',
      }),
      event('bounce', s.email, `${randomUUID()}@bulletin.test`, {
        type: 'bounce',
        bounce_classification: 'Technical',
        reason: '550 5.7.1 Message rejected by policy',
        status: '5.7.1',
      }),
    ]);
    const res = await post(body);
    expect(res.body).toMatchObject({ stored: 2, ignored: 1 });
    await allApplied();
    const events = await ctx.db.query('SELECT bounce_type FROM events WHERE subscriber_id = $1', [
      s.id,
    ]);
    expect(events.rows).toEqual([{ bounce_type: null }, { bounce_type: null }]);
    expect(await statusOf(s.id)).toBe('active');
  });

  it('unsubscribes on unsubscribe and group_unsubscribe; a later delivered event undoes nothing', async () => {
    const { rows } = await ctx.db.query("INSERT INTO lists (name) VALUES ('SG') RETURNING id");
    const a = await subscriber([rows[0].id]);
    const b = await subscriber([rows[0].id]);
    const bounced = await subscriber();
    const m = `${randomUUID()}@bulletin.test`;
    await post(
      JSON.stringify([
        event('unsubscribe', a.email, `${randomUUID()}@bulletin.test`),
        event('group_unsubscribe', b.email, `${randomUUID()}@bulletin.test`, {
          asm_group_id: 42,
          useragent: 'Mozilla/5.0',
          ip: '192.0.2.1',
        }),
        event('dropped', bounced.email, m, { reason: 'Bounced Address', status: '5.0.0' }),
      ]),
    );
    await allApplied();
    await post(JSON.stringify([event('delivered', bounced.email, m, { response: '250 OK' })]));
    await allApplied();
    expect(await subscriptionsOf([a.id, b.id])).toEqual([
      { status: 'unsubscribed' },
      { status: 'unsubscribed' },
    ]);
    expect(await statusOf(bounced.id)).toBe('bounced');
  });

  it('answers a signed body that is not an event array with 400 and stores nothing', async () => {
    const before = await world();
    const res = await post('{"event":"bounce"}');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_request');
    expect(await world()).toEqual(before);
  });
});
