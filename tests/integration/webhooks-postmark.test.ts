// POST /webhooks/postmark: basic auth, records shaped like Postmark's webhook documentation
// (bounce, spam complaint, subscription change, delivery).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { drained } from '../helpers/drain.js';
import { webhookTools } from '../helpers/webhooks.js';

const USER = 'postmark-hook';
const PASSWORD = 'correct horse battery staple';
let ctx: TestContext;
let nextId = 4323372036854775000n;

beforeAll(async () => {
  ctx = await createTestContext({
    POSTMARK_WEBHOOK_USER: USER,
    POSTMARK_WEBHOOK_PASSWORD: PASSWORD,
  });
  ctx.startWorkers();
});
afterAll(async () => {
  await ctx?.close();
});

function basic(user: string, password: string) {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function post(body: string | object, authorization: string | null = basic(USER, PASSWORD)) {
  const req = ctx.http.post('/webhooks/postmark').set('Content-Type', 'application/json');
  if (authorization) void req.set('Authorization', authorization);
  return req.send(typeof body === 'string' ? body : JSON.stringify(body));
}

/** A bounce record as Postmark posts it; ID is written as raw digits (a 64-bit integer). */
function bounceJson(email: string, type: string, typeCode: number, details: string, id = ++nextId) {
  return `{
  "RecordType": "Bounce",
  "MessageStream": "broadcast",
  "ID": ${id},
  "Type": "${type}",
  "TypeCode": ${typeCode},
  "Name": "${type}",
  "Tag": "newsletter",
  "MessageID": "${randomUUID()}",
  "Metadata": {},
  "ServerID": 23,
  "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
  "Details": ${JSON.stringify(details)},
  "Email": "${email}",
  "From": "news@bulletin.test",
  "BouncedAt": "${new Date().toISOString()}",
  "DumpAvailable": true,
  "Inactive": true,
  "CanActivate": true,
  "Subject": "Quarterly newsletter",
  "Content": ""
}`;
}

const { subscriber, statusOf, allApplied, world, expectComplainedAndLeft } = webhookTools(
  () => ctx,
  'pm',
);

describe('postmark webhook', () => {
  it('applies a hard bounce once; the same request again changes nothing', async () => {
    const s = await subscriber();
    const body = bounceJson(
      s.email,
      'HardBounce',
      1,
      'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
    );
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: 1 });
    await allApplied();
    expect(await statusOf(s.id)).toBe('bounced');
    const { rows } = await ctx.db.query(
      "SELECT provider_event_id FROM events WHERE source = 'postmark' AND subscriber_id = $1",
      [s.id],
    );
    // 64-bit IDs keep every digit (JSON.parse alone would round them).
    expect(rows[0].provider_event_id).toBe(`Bounce:${nextId}`);

    const before = await world();
    const replay = await post(body);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ stored: 0, duplicates: 1 });
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it('keeps two bounces whose IDs differ only beyond double precision apart', async () => {
    const s = await subscriber();
    const res1 = await post(
      bounceJson(s.email, 'SoftBounce', 4096, 'mailbox full', 9007199254740993n),
    );
    const res2 = await post(
      bounceJson(s.email, 'SoftBounce', 4096, 'mailbox full', 9007199254740994n),
    );
    expect(res1.body.stored).toBe(1);
    expect(res2.body.stored).toBe(1);
    await allApplied();
  });

  it.each([
    ['a wrong password', basic(USER, 'correct horse battery stapler')],
    ['a wrong user', basic('postmark-hoo', PASSWORD)],
    ['the password as the user', basic(PASSWORD, USER)],
    ['no credentials', null],
    ['a bearer token', `Bearer ${PASSWORD}`],
  ])('refuses %s with 401 and changes nothing', async (_name, authorization) => {
    const s = await subscriber();
    const before = await world();
    const res = await post(
      bounceJson(s.email, 'HardBounce', 1, '550 5.1.1 unknown'),
      authorization,
    );
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(res.body.code).toBe('unauthorized');
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it('soft bounces count toward the limit; blocked and DMARC bounces never suppress', async () => {
    const s = await subscriber();
    await post(
      bounceJson(s.email, 'Blocked', 100006, '554 5.7.1 Message blocked due to reputation'),
    );
    await post(bounceJson(s.email, 'DMARCPolicy', 100009, 'Rejected by DMARC policy'));
    await post(bounceJson(s.email, 'SoftBounce', 4096, '452 4.2.2 Mailbox full'));
    await post(bounceJson(s.email, 'SoftBounce', 4096, '452 4.2.2 Mailbox full'));
    await allApplied();
    expect(await statusOf(s.id)).toBe('active');
    await post(bounceJson(s.email, 'Transient', 2, 'Message delayed'));
    await allApplied();
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('applies a spam complaint and a subscription change; a later Delivery undoes nothing', async () => {
    const { rows } = await ctx.db.query("INSERT INTO lists (name) VALUES ('PM') RETURNING id");
    const complainer = await subscriber([rows[0].id]);
    const leaver = await subscriber([rows[0].id]);
    const messageId = randomUUID();
    await post({
      RecordType: 'SpamComplaint',
      MessageStream: 'broadcast',
      ID: 42,
      Type: 'SpamComplaint',
      TypeCode: 100001,
      Name: 'Spam complaint',
      Tag: 'newsletter',
      MessageID: messageId,
      Metadata: {},
      ServerID: 1234,
      Description: '',
      Details: 'Test spam complaint details',
      Email: complainer.email,
      From: 'news@bulletin.test',
      BouncedAt: new Date().toISOString(),
      DumpAvailable: true,
      Inactive: true,
      CanActivate: false,
      Subject: 'Quarterly newsletter',
      Content: '',
    });
    await post({
      RecordType: 'SubscriptionChange',
      MessageID: randomUUID(),
      ServerID: 23,
      MessageStream: 'broadcast',
      ChangedAt: new Date().toISOString(),
      Recipient: leaver.email,
      Origin: 'Recipient',
      SuppressSending: true,
      SuppressionReason: 'ManualSuppression',
      Tag: 'newsletter',
      Metadata: {},
    });
    await allApplied();
    const delivery = await post({
      RecordType: 'Delivery',
      ServerID: 23,
      MessageStream: 'broadcast',
      MessageID: messageId,
      Recipient: complainer.email,
      Tag: 'newsletter',
      DeliveredAt: new Date().toISOString(),
      Details: 'Test delivery webhook details',
      Metadata: {},
    });
    expect(delivery.body).toMatchObject({ stored: 1 });
    await expectComplainedAndLeft(complainer.id, leaver.id);
  });

  it('ignores a reactivation: a webhook never makes a subscriber deliverable again', async () => {
    const s = await subscriber();
    await post(bounceJson(s.email, 'HardBounce', 1, '550 5.1.1 unknown'));
    await allApplied();
    const res = await post({
      RecordType: 'SubscriptionChange',
      MessageID: null,
      ServerID: 23,
      MessageStream: 'broadcast',
      ChangedAt: new Date().toISOString(),
      Recipient: s.email,
      Origin: 'Customer',
      SuppressSending: false,
      SuppressionReason: null,
      Tag: null,
      Metadata: {},
    });
    expect(res.body).toMatchObject({ stored: 0, ignored: 1 });
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('answers malformed JSON with 400 and stores nothing', async () => {
    const before = await world();
    const res = await post('{"RecordType": "Bounce",');
    expect(res.status).toBe(400);
    expect(await world()).toEqual(before);
  });
});
