// Reports sent back to the VERP return path of a real campaign, over real SMTP, to the built-in
// bounce receiver: a DSN bounces its recipient, an ARF report makes a complaint, and forged or
// replayed reports change nothing.
import { createServer } from 'node:net';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, waitFor, type TestContext } from '../helpers/context.js';
import * as fixtures from '../helpers/campaigns.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const DOMAIN = 'bounces.bulletin.test';
let ctx: TestContext;
let sink: SmtpSink;
let port: number;
/** The envelope sender of the campaign message each reader received. */
const verp = new Map<string, string>();
let campaignId: number;
let ids: number[];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 0;
}

beforeAll(async () => {
  sink = await startSmtpSink();
  ctx = await createTestContext({
    SMTP_URL: sink.url,
    BOUNCE_DOMAIN: DOMAIN,
    BOUNCE_SMTP_PORT: String(await freePort()),
  });
  const workers = ctx.startWorkers();
  port = await workers.bounceReceiver!.listening;

  const news = await fixtures.createList(ctx, 'News');
  const other = await fixtures.createList(ctx, 'Other');
  ids = await fixtures.seedSubscribers(ctx, 'reader', 6);
  await fixtures.subscribe(ctx, news, ids);
  await fixtures.subscribe(ctx, other, ids);
  const templateId = await fixtures.createTemplate(ctx);
  const campaign = await fixtures.createCampaign(ctx, { templateId, listIds: [news] });
  campaignId = campaign.id;
  expect((await ctx.api().post(`/api/v1/campaigns/${campaign.id}/send`)).status).toBe(200);
  await waitFor(async () => (await fixtures.campaignStatus(ctx, campaign.id)) === 'finished', {
    timeoutMs: 60_000,
    intervalMs: 100,
  });
  for (const m of sink.messages) verp.set(m.to, m.from);
}, 90_000);

afterAll(async () => {
  await ctx?.close();
  await sink?.close();
});

function dsn(o: {
  finalRecipient: string;
  status: string;
  diagnostic: string;
  messageId: string;
  action?: string;
}) {
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.test>',
    'To: bounces',
    'Subject: Undelivered Mail Returned to Sender',
    `Message-ID: ${o.messageId}`,
    'Date: Tue, 2 Jan 2024 10:00:00 +0000',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"',
    '',
    '--B1',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'I am sorry to have to inform you that your message could not be delivered.',
    '',
    '--B1',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.test',
    'Arrival-Date: Tue, 2 Jan 2024 09:59:58 +0000',
    '',
    `Final-Recipient: rfc822; ${o.finalRecipient}`,
    `Action: ${o.action ?? 'failed'}`,
    `Status: ${o.status}`,
    'Remote-MTA: dns; mx.example.test',
    `Diagnostic-Code: smtp; ${o.diagnostic}`,
    '',
    '--B1',
    'Content-Type: text/rfc822-headers',
    '',
    'Subject: News',
    '',
    '--B1--',
    '',
  ].join('\r\n');
}

function arf(originalRcptTo: string, messageId: string) {
  return [
    'From: feedback@fbl.example.test',
    'Subject: FW: News',
    `Message-ID: ${messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="B2"',
    '',
    '--B2',
    'Content-Type: text/plain',
    '',
    'This is an email abuse report.',
    '',
    '--B2',
    'Content-Type: message/feedback-report',
    '',
    'Feedback-Type: abuse',
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: <${originalRcptTo}>`,
    'Arrival-Date: Tue, 2 Jan 2024 10:00:00 +0000',
    '',
    '--B2',
    'Content-Type: message/rfc822',
    'Content-Disposition: inline',
    '',
    'Subject: News',
    'To: someone',
    '',
    'Body',
    '',
    '--B2--',
    '',
  ].join('\r\n');
}

async function deliver(to: string, raw: string) {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
  });
  try {
    return await transport.sendMail({ envelope: { from: '', to: [to] }, raw });
  } finally {
    transport.close();
  }
}

async function subscriber(email: string) {
  const { rows } = await ctx.db.query<{ id: number; status: string; subscriptions: string[] }>(
    `SELECT s.id, s.status, array_agg(sub.status ORDER BY sub.list_id) AS subscriptions
     FROM subscribers s JOIN subscriptions sub ON sub.subscriber_id = s.id
     WHERE s.email_key = lower($1) GROUP BY s.id`,
    [email],
  );
  return rows[0]!;
}

async function events(email: string) {
  const { rows } = await ctx.db.query<{
    type: string;
    bounce_type: string | null;
    source: string;
    campaign_id: number | null;
    reason: string | null;
  }>(
    'SELECT type, bounce_type, source, campaign_id, reason FROM events WHERE lower(email) = lower($1)',
    [email],
  );
  return rows;
}

describe('the bounce receiver', () => {
  it('signs a VERP return path for every campaign message', () => {
    expect(verp.size).toBe(6);
    for (const from of verp.values())
      expect(from).toMatch(/^bounce\+[\w.-]+@bounces\.bulletin\.test$/);
  });

  it('a DSN for a failed recipient at its return path bounces that subscriber, once', async () => {
    const raw = dsn({
      finalRecipient: 'reader1@example.test',
      status: '5.1.1',
      diagnostic: '550 5.1.1 <reader1@example.test>: Recipient address rejected: User unknown',
      messageId: '<dsn-1@mx.example.test>',
    });
    const info = await deliver(verp.get('reader1@example.test')!, raw);
    expect(info.accepted).toHaveLength(1);
    expect(await subscriber('reader1@example.test')).toMatchObject({ status: 'bounced' });
    expect(await events('reader1@example.test')).toEqual([
      expect.objectContaining({
        type: 'bounce',
        bounce_type: 'hard',
        source: 'dsn',
        campaign_id: campaignId,
      }),
    ]);
    const { rows } = await ctx.db.query<{ status: string }>(
      'SELECT status FROM deliveries WHERE campaign_id = $1 AND subscriber_id = $2',
      [campaignId, ids[0]],
    );
    expect(rows[0]!.status).toBe('bounced');

    // The MTA delivers the same report again: a replay, accepted and changing nothing.
    await deliver(verp.get('reader1@example.test')!, raw);
    expect(await events('reader1@example.test')).toHaveLength(1);
  });

  it('an ARF abuse report makes the subscriber complained and unsubscribes it from every list', async () => {
    await deliver(
      verp.get('reader2@example.test')!,
      arf('reader2@example.test', '<arf-1@fbl.test>'),
    );
    expect(await subscriber('reader2@example.test')).toEqual(
      expect.objectContaining({
        status: 'complained',
        subscriptions: ['unsubscribed', 'unsubscribed'],
      }),
    );
    expect(await events('reader2@example.test')).toEqual([
      expect.objectContaining({ type: 'complaint', source: 'dsn', campaign_id: campaignId }),
    ]);
  });

  it('refuses recipients without a genuine token at RCPT, and changes nothing', async () => {
    const raw = dsn({
      finalRecipient: 'reader3@example.test',
      status: '5.1.1',
      diagnostic: '550 5.1.1 User unknown',
      messageId: '<forged-1@evil.test>',
    });
    const token = verp.get('reader3@example.test')!;
    const local = token.slice(0, token.indexOf('@'));
    const tampered = `${local.slice(0, -2)}${local.endsWith('AA') ? 'BB' : 'AA'}@${DOMAIN}`;
    for (const to of [
      `bounce@${DOMAIN}`,
      `postmaster@${DOMAIN}`,
      `bounce+not-a-token@${DOMAIN}`,
      tampered,
      `${local}@elsewhere.test`,
    ]) {
      await expect(deliver(to, raw), to).rejects.toMatchObject({ responseCode: 550 });
    }
    expect(await subscriber('reader3@example.test')).toMatchObject({
      status: 'active',
      subscriptions: ['confirmed', 'confirmed'],
    });
    expect(await events('reader3@example.test')).toEqual([]);
  });

  it("ignores a report about someone else sent to another recipient's return path", async () => {
    await deliver(
      verp.get('reader3@example.test')!,
      dsn({
        finalRecipient: 'reader4@example.test',
        status: '5.1.1',
        diagnostic: '550 5.1.1 User unknown',
        messageId: '<forged-2@evil.test>',
      }),
    );
    await deliver(
      verp.get('reader3@example.test')!,
      arf('reader4@example.test', '<forged-3@evil.test>'),
    );
    for (const email of ['reader3@example.test', 'reader4@example.test']) {
      expect(await subscriber(email)).toMatchObject({ status: 'active' });
      expect(await events(email)).toEqual([]);
    }
  });

  it('records a 5.7.1 policy rejection without suppressing the recipient, and ignores a delay', async () => {
    await deliver(
      verp.get('reader5@example.test')!,
      dsn({
        finalRecipient: 'reader5@example.test',
        status: '5.7.1',
        diagnostic: '550 5.7.1 Message rejected due to local policy',
        messageId: '<dsn-policy@mx.example.test>',
      }),
    );
    expect(await subscriber('reader5@example.test')).toMatchObject({ status: 'active' });
    expect(await events('reader5@example.test')).toEqual([
      expect.objectContaining({ type: 'bounce', bounce_type: null, source: 'dsn' }),
    ]);

    await deliver(
      verp.get('reader6@example.test')!,
      dsn({
        finalRecipient: 'reader6@example.test',
        action: 'delayed',
        status: '4.4.7',
        diagnostic: '451 4.4.7 Try again later',
        messageId: '<dsn-delay@mx.example.test>',
      }),
    );
    expect(await subscriber('reader6@example.test')).toMatchObject({ status: 'active' });
    expect(await events('reader6@example.test')).toEqual([]);
  });

  it('refuses a message over the size limit', async () => {
    const big = `Subject: big\r\n\r\n${'x'.repeat(76).concat('\r\n').repeat(15_000)}`;
    await expect(deliver(verp.get('reader6@example.test')!, big)).rejects.toMatchObject({
      responseCode: 552,
    });
  });
});
