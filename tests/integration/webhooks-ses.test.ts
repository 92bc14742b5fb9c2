// POST /webhooks/ses: Amazon SNS messages carrying SES notifications. Only the certificate
// download is fake: a fetcher that serves a self-signed certificate generated here and counts
// every call, so tests can prove a refused message made no request at all.
import { randomBytes, randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { SnsVerifier } from '../../src/api/webhooks/ses.js';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { drained } from '../helpers/drain.js';
import { webhookTools } from '../helpers/webhooks.js';
import {
  TOPIC,
  OTHER_TOPIC,
  CERT_URL,
  forger,
  fetched,
  fakeFetcher,
  type Sns,
  signSns,
  notification,
  mail,
  bounceMessage,
} from '../helpers/sns.js';

let ctx: TestContext;
let http: ReturnType<typeof request>;

beforeAll(async () => {
  ctx = await createTestContext({
    SES_TOPIC_ARNS: `${TOPIC}, arn:aws:sns:us-east-1:123456789012:spare`,
  });
  const app = createApp({
    ...ctx.container,
    services: { ...ctx.container.services, snsVerifier: new SnsVerifier(fakeFetcher) },
  });
  http = request(app);
  ctx.startWorkers();
});
afterAll(async () => {
  await ctx?.close();
});
beforeEach(() => {
  fetched.length = 0;
});

function post(body: Sns | string) {
  return http
    .post('/webhooks/ses')
    .set('Content-Type', 'text/plain; charset=UTF-8')
    .set('x-amz-sns-message-type', typeof body === 'string' ? 'Notification' : (body.Type ?? ''))
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

const { subscriber, statusOf, allApplied, world } = webhookTools(() => ctx, 'ses');

describe('ses webhook (SNS)', () => {
  it.each(['1', '2'])(
    'applies a SignatureVersion %s bounce once; the same message again changes nothing',
    async (version) => {
      const s = await subscriber();
      const message = signSns(notification(bounceMessage(s.email)), { version });
      const res = await post(message);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ stored: 1, duplicates: 0 });
      await allApplied();
      expect(await statusOf(s.id)).toBe('bounced');

      const before = await world();
      const replay = await post(message);
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ stored: 0, duplicates: 1 });
      await drained(ctx);
      expect(await world()).toEqual(before);
    },
  );

  it('downloads a signing certificate once and keeps it', async () => {
    const verifier = new SnsVerifier(fakeFetcher);
    const bare = request(
      createApp({
        ...ctx.container,
        services: { ...ctx.container.services, snsVerifier: verifier },
      }),
    );
    for (let i = 0; i < 3; i++) {
      const s = await subscriber();
      const res = await bare
        .post('/webhooks/ses')
        .set('Content-Type', 'text/plain; charset=UTF-8')
        .send(JSON.stringify(signSns(notification(bounceMessage(s.email)))));
      expect(res.status).toBe(200);
    }
    expect(fetched).toEqual([CERT_URL]);
    await allApplied();
  });

  it.each([
    [
      'one changed byte in the message',
      (m: Sns) => ({ ...m, Message: m.Message!.replace('Permanent', 'Permanenu') }),
    ],
    [
      'a signature by another key',
      (m: Sns) => signSns({ ...m, Signature: '' }, { key: forger.privateKey }),
    ],
    [
      'a changed Timestamp',
      (m: Sns) => ({ ...m, Timestamp: new Date(Date.parse(m.Timestamp!) - 1000).toISOString() }),
    ],
    [
      'a Timestamp two hours old',
      (m: Sns) => signSns({ ...m, Timestamp: new Date(Date.now() - 2 * 3600_000).toISOString() }),
    ],
    [
      'SignatureVersion 2 claimed for a v1 signature',
      (m: Sns) => ({ ...m, SignatureVersion: '2' }),
    ],
  ])('refuses %s with 401 and changes nothing', async (_name, tamper) => {
    const s = await subscriber();
    const before = await world();
    const res = await post(tamper(signSns(notification(bounceMessage(s.email)))));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it.each([
    [
      'a certificate URL off amazonaws.com',
      'https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem',
      401,
    ],
    [
      'a certificate URL on another host',
      'https://evil.example/SimpleNotificationService-x.pem',
      401,
    ],
    ['a certificate URL over http', CERT_URL.replace('https:', 'http:'), 401],
    ['a certificate URL with credentials', CERT_URL.replace('https://', 'https://user@'), 401],
    ['a certificate URL on another port', CERT_URL.replace('.com/', '.com:8443/'), 401],
  ])('refuses %s without fetching anything', async (_name, url, status) => {
    const s = await subscriber();
    const before = await world();
    const res = await post(
      signSns(
        { ...notification(bounceMessage(s.email)), SigningCertURL: url },
        { key: forger.privateKey },
      ),
    );
    expect(res.status).toBe(status);
    expect(fetched).toEqual([]);
    expect(await world()).toEqual(before);
  });

  it('refuses a notification from a topic not in SES_TOPIC_ARNS without fetching anything', async () => {
    const s = await subscriber();
    const before = await world();
    const res = await post(
      signSns(notification(bounceMessage(s.email), { TopicArn: OTHER_TOPIC })),
    );
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
    expect(fetched).toEqual([]);
    expect(await world()).toEqual(before);
  });

  function confirmation(topic: string, subscribeHost = 'sns.eu-west-1.amazonaws.com'): Sns {
    const token = randomBytes(64).toString('hex');
    return signSns({
      Type: 'SubscriptionConfirmation',
      MessageId: randomUUID(),
      Token: token,
      TopicArn: topic,
      Message: `You have chosen to subscribe to the topic ${topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message.`,
      SubscribeURL: `https://${subscribeHost}/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`,
      Timestamp: new Date().toISOString(),
    });
  }

  it('confirms a subscription to an allowed topic through the fetcher', async () => {
    const message = confirmation(TOPIC);
    const res = await post(message);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ confirmed: true, stored: 0 });
    // The certificate is cached from earlier messages: only the SubscribeURL is new.
    expect(fetched.filter((url) => url !== CERT_URL)).toEqual([message.SubscribeURL]);
  });

  it('refuses a subscription confirmation for another topic without fetching anything', async () => {
    const res = await post(confirmation(OTHER_TOPIC));
    expect(res.status).toBe(403);
    expect(fetched).toEqual([]);
  });

  it('refuses a SubscribeURL that is not an SNS endpoint without visiting it', async () => {
    const res = await post(confirmation(TOPIC, 'evil.example'));
    expect(res.status).toBe(401);
    expect(fetched.filter((url) => url !== CERT_URL)).toEqual([]);
  });

  it('never suppresses for a 5.7.1 blocklist bounce or rejected content; transient bounces are soft', async () => {
    const s = await subscriber();
    for (const options of [
      {
        status: '5.7.1',
        diagnosticCode:
          'smtp; 554 5.7.1 Service unavailable; Client host [192.0.2.8] blocked using zen.spamhaus.org',
      },
      {
        bounceType: 'Transient',
        bounceSubType: 'ContentRejected',
        status: '5.3.0',
        diagnosticCode: 'smtp; 550 content rejected',
      },
      {
        bounceType: 'Transient',
        bounceSubType: 'MailboxFull',
        status: '4.2.2',
        diagnosticCode: 'smtp; 452 4.2.2 Mailbox full',
      },
    ]) {
      const res = await post(signSns(notification(bounceMessage(s.email, options))));
      expect(res.status).toBe(200);
    }
    await allApplied();
    const events = await ctx.db.query(
      'SELECT bounce_type FROM events WHERE subscriber_id = $1 ORDER BY id',
      [s.id],
    );
    expect(events.rows).toEqual([
      { bounce_type: null },
      { bounce_type: null },
      { bounce_type: 'soft' },
    ]);
    expect(await statusOf(s.id)).toBe('active');
  });

  it('applies a complaint (unsubscribed everywhere); a Delivery after a bounce undoes nothing', async () => {
    const { rows } = await ctx.db.query("INSERT INTO lists (name) VALUES ('SES') RETURNING id");
    const complainer = await subscriber([rows[0].id]);
    const bounced = await subscriber();
    const messageId = `${randomUUID()}@bulletin.test`;
    await post(
      signSns(
        notification({
          notificationType: 'Complaint',
          complaint: {
            userAgent: 'ExampleCorp Feedback Loop (V0.01)',
            complainedRecipients: [{ emailAddress: complainer.email }],
            complaintFeedbackType: 'abuse',
            arrivalDate: new Date().toISOString(),
            timestamp: new Date().toISOString(),
            feedbackId: `0102018c${randomBytes(8).toString('hex')}-000000`,
          },
          mail: mail(complainer.email, `${randomUUID()}@bulletin.test`),
        }),
      ),
    );
    await post(signSns(notification(bounceMessage(bounced.email, { messageId }))));
    await allApplied();
    const delivery = await post(
      signSns(
        notification({
          notificationType: 'Delivery',
          mail: mail(bounced.email, messageId),
          delivery: {
            timestamp: new Date().toISOString(),
            processingTimeMillis: 546,
            recipients: [bounced.email],
            smtpResponse: '250 ok:  Message 64111812 accepted',
            reportingMTA: 'a8-70.smtp-out.amazonses.com',
            remoteMtaIp: '192.0.2.30',
          },
        }),
      ),
    );
    expect(delivery.body).toMatchObject({ stored: 1 });
    await allApplied();
    expect(await statusOf(complainer.id)).toBe('complained');
    const subs = await ctx.db.query('SELECT status FROM subscriptions WHERE subscriber_id = $1', [
      complainer.id,
    ]);
    expect(subs.rows).toEqual([{ status: 'unsubscribed' }]);
    expect(await statusOf(bounced.id)).toBe('bounced');
  });

  it('answers a body that is not an SNS message with 400', async () => {
    const res = await post('{"hello": "world"}');
    expect(res.status).toBe(400);
    expect(fetched).toEqual([]);
  });
});
