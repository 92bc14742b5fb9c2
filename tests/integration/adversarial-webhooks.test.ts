// Adversarial requests on the webhooks, beyond the webhooks-*.test.ts files: bit flips
// and smuggled timestamps in the generic signature, events re-signed for a replay, bodies over
// the size limit or nested past any provider's payload, signed bodies that are not JSON. Every
// refusal is a 4xx problem+json and nothing changes; a replay answers 200 and changes nothing.
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import { stateOf } from '../helpers/state.js';
import * as wh from '../helpers/webhooks.js';

const SECRET = 'generic-webhook-secret-adversarial-0123';
const MAILGUN_KEY = 'key-mailgun-adversarial-0123456789';
const PM = { user: 'postmark', password: 'postmark-password-0123456789' };
const sendgridKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const LIMIT = 5 * 1024 * 1024; // WEBHOOK_BODY_LIMIT_BYTES

const ctx = contextSuite(
  {
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    WEBHOOK_SECRET: SECRET,
    MAILGUN_SIGNING_KEY: MAILGUN_KEY,
    POSTMARK_WEBHOOK_USER: PM.user,
    POSTMARK_WEBHOOK_PASSWORD: PM.password,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKey.publicKey
      .export({ type: 'spki', format: 'der' })
      .toString('base64'),
    SES_TOPIC_ARNS: 'arn:aws:sns:eu-west-1:123456789012:bulletin-ses',
  },
  { workers: true },
);

// Refusals count towards a per-address limit (60 a minute): each request comes from its own.
let ip = 0;
const nextIp = () => `198.51.100.${++ip}`;
const { genericSignature, postGeneric, postSendgrid, postPostmark } = wh.webhookSenders(() => ctx, {
  genericSecret: SECRET,
  postmark: PM,
  sendgridKey,
  nextIp,
});

function postMailgun(body: string) {
  return ctx.http
    .post('/webhooks/mailgun')
    .set('X-Forwarded-For', nextIp())
    .set('Content-Type', 'application/json')
    .send(body);
}

function mailgunSignature() {
  const timestamp = String(wh.nowSeconds());
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', MAILGUN_KEY)
    .update(timestamp + token)
    .digest('hex');
  return { timestamp, token, signature };
}

const subscriber = () =>
  wh.insertSubscriber(ctx, `adv-${randomBytes(4).toString('hex')}@webhooks.test`);

const complaint = (email: string, id = `evt-${randomBytes(6).toString('hex')}`) =>
  JSON.stringify({ events: [{ id, type: 'complaint', email }] });

/** A refusal: the status, a problem+json body with its code, and no change anywhere. */
async function expectRefused(
  send: () => Promise<{ status: number; headers: Record<string, string>; body: unknown }>,
  status: number,
  code: string,
) {
  await wh.allEventsApplied(ctx);
  const before = await stateOf(ctx);
  const res = await send();
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code });
  await drained(ctx);
  expect(await stateOf(ctx)).toEqual(before);
  return res;
}

describe('forged generic signatures', () => {
  it('one flipped bit anywhere in the MAC is a 401 and changes nothing', async () => {
    const s = await subscriber();
    const body = complaint(s.email);
    const good = genericSignature(body);
    const mac = good.split('v1=')[1]!;
    for (const position of [0, 31, 63]) {
      const flipped = (parseInt(mac[position]!, 16) ^ 1).toString(16);
      const forged = `${mac.slice(0, position)}${flipped}${mac.slice(position + 1)}`;
      await expectRefused(() => postGeneric(body, good.replace(mac, forged)), 401, 'unauthorized');
    }
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('active');
  });

  it('a fresh t= put in front of a stale signed header is a 401 (one timestamp only)', async () => {
    const s = await subscriber();
    const body = complaint(s.email);
    const stale = genericSignature(body, wh.nowSeconds() - 3600);
    await expectRefused(
      () => postGeneric(body, `t=${wh.nowSeconds()},${stale}`),
      401,
      'unauthorized',
    );
    await expectRefused(
      () => postGeneric(body, `${stale},t=${wh.nowSeconds()}`),
      401,
      'unauthorized',
    );
  });

  it('many v1 candidates, none right, or a header over 2,000 characters, is a 401', async () => {
    const s = await subscriber();
    const body = complaint(s.email);
    const t = wh.nowSeconds();
    const wrong = Array.from({ length: 20 }, () => `v1=${randomBytes(32).toString('hex')}`);
    await expectRefused(
      () => postGeneric(body, [`t=${t}`, ...wrong].join(',')),
      401,
      'unauthorized',
    );
    const valid = genericSignature(body, t).split(',')[1]!;
    const long = [`t=${t}`, ...wrong, ...wrong, valid].join(',');
    expect(long.length).toBeGreaterThan(2000);
    await expectRefused(() => postGeneric(body, long), 401, 'unauthorized');
  });

  it('a signature over the body with a different secret, or over the header without a body, is a 401', async () => {
    const s = await subscriber();
    const body = complaint(s.email);
    await expectRefused(
      () => postGeneric(body, genericSignature(body, wh.nowSeconds(), `${SECRET}x`)),
      401,
      'unauthorized',
    );
    await expectRefused(() => postGeneric(body, genericSignature('')), 401, 'unauthorized');
    await expectRefused(() => postGeneric('', genericSignature(body)), 401, 'unauthorized');
  });
});

describe('replays', () => {
  it('the same events re-signed a minute later are duplicates: 200, no second event row', async () => {
    const s = await subscriber();
    const body = complaint(s.email, 'evt-resigned');
    expect((await postGeneric(body, genericSignature(body, wh.nowSeconds() - 60))).status).toBe(
      200,
    );
    await wh.allEventsApplied(ctx);
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('complained');
    const before = await stateOf(ctx);
    for (let i = 0; i < 3; i++) {
      const again = await postGeneric(body, genericSignature(body, wh.nowSeconds() - i));
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ received: 1, stored: 0, duplicates: 1, ignored: 0 });
    }
    await drained(ctx);
    expect(await stateOf(ctx)).toEqual(before);
  });

  it('one event id twice in a batch is stored once, as the first one says', async () => {
    const s = await subscriber();
    const body = JSON.stringify({
      events: [
        { id: 'evt-twice', type: 'unsubscribe', email: s.email },
        { id: 'evt-twice', type: 'complaint', email: s.email },
      ],
    });
    const res = await postGeneric(body);
    expect(res.body).toEqual({ received: 2, stored: 1, duplicates: 1, ignored: 0 });
    await wh.allEventsApplied(ctx);
    const { rows } = await ctx.db.query(
      "SELECT type FROM events WHERE source = 'generic' AND provider_event_id = 'evt-twice'",
    );
    expect(rows).toEqual([{ type: 'unsubscribe' }]);
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('active');
  });

  it('a replayed Mailgun request is a 401 the second time and changes nothing', async () => {
    const s = await subscriber();
    const body = JSON.stringify({
      signature: mailgunSignature(),
      'event-data': {
        id: randomBytes(8).toString('hex'),
        timestamp: wh.nowSeconds(),
        event: 'complained',
        recipient: s.email,
        message: { headers: { 'message-id': `${randomBytes(6).toString('hex')}@mg.test` } },
      },
    });
    expect((await postMailgun(body)).status).toBe(200);
    await wh.allEventsApplied(ctx);
    await expectRefused(() => postMailgun(body), 401, 'unauthorized');
  });
});

describe('bodies over the size limit', () => {
  const oversized = JSON.stringify({ events: [{ reason: 'x'.repeat(LIMIT) }] });

  it.each(['generic', 'mailgun', 'sendgrid', 'ses', 'postmark'])(
    '%s: a body over 5 MiB is a 413 before anything is verified or stored',
    async (source) => {
      const res = await expectRefused(
        () =>
          ctx.http
            .post(`/webhooks/${source}`)
            .set('X-Forwarded-For', nextIp())
            .set('Content-Type', 'application/json')
            .set('Bulletin-Signature', genericSignature(oversized))
            .auth(PM.user, PM.password)
            .send(oversized),
        413,
        'payload_too_large',
      );
      expect(res.body).not.toHaveProperty('stack');
    },
  );

  it('a signed body just under the limit is read (and refused only for what it says)', async () => {
    const body = JSON.stringify({ events: [], padding: 'x'.repeat(LIMIT - 100) });
    expect(Buffer.byteLength(body)).toBeLessThan(LIMIT);
    const res = await expectRefused(() => postGeneric(body), 400, 'validation_failed');
    expect((res.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(
      expect.arrayContaining(['events', 'padding']),
    );
  });
});

describe('signed bodies that are not what the provider sends', () => {
  const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;

  it('nesting past 64 levels is a 400 for every provider, not a stack overflow', async () => {
    const s = await subscriber();
    await expectRefused(
      () =>
        postGeneric(
          `{"events":[{"id":"deep","type":"complaint","email":"${s.email}","x":${deep}}]}`,
        ),
      400,
      'malformed_request',
    );
    await expectRefused(
      () =>
        postSendgrid(
          `[{"event":"spamreport","sg_event_id":"deep","email":"${s.email}","x":${deep}}]`,
        ),
      400,
      'malformed_request',
    );
    await expectRefused(
      () =>
        postPostmark(
          `{"RecordType":"SpamComplaint","ID":1,"Email":"${s.email}","Metadata":${deep}}`,
        ),
      400,
      'malformed_request',
    );
    await expectRefused(
      () => postMailgun(`{"signature":${JSON.stringify(mailgunSignature())},"x":${deep}}`),
      400,
      'malformed_request',
    );
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('active');
  });

  it('strings that merely contain brackets do not count as nesting', async () => {
    const s = await subscriber();
    const reason = `5.1.1 "quoted" \\ ${'[{'.repeat(100)}`;
    const body = JSON.stringify({
      events: [{ id: 'evt-brackets', type: 'bounce', bounceType: 'hard', email: s.email, reason }],
    });
    expect((await postGeneric(body)).status).toBe(200);
  });

  it.each([
    ['truncated JSON', '[{"event":"spamreport","sg_event_id":"t1",'],
    ['two JSON documents', '[] []'],
    ['a bare string', '"spamreport"'],
    ['an object instead of the event array', '{"0":{"event":"spamreport"}}'],
  ])('SendGrid: %s with a valid signature is a 400, nothing stored', async (_what, body) => {
    await expectRefused(() => postSendgrid(body), 400, 'malformed_request');
  });

  it.each([
    ['truncated JSON', '{"RecordType":"Bounce","ID":'],
    ['an array', '[{"RecordType":"Bounce"}]'],
    ['a spam complaint without an ID', '{"RecordType":"SpamComplaint","Email":"a@b.test"}'],
  ])('Postmark: %s with valid credentials is a 400, nothing stored', async (_what, body) => {
    await expectRefused(() => postPostmark(body), 400, 'malformed_request');
  });

  it('Mailgun: a body that is not JSON is a 400; JSON without the signature block is a 401', async () => {
    await expectRefused(() => postMailgun('signature=x&event-data=y'), 400, 'malformed_request');
    await expectRefused(
      () => postMailgun(JSON.stringify({ 'event-data': { event: 'complained' } })),
      401,
      'unauthorized',
    );
  });
});
