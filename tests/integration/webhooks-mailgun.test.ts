// POST /webhooks/mailgun with payloads shaped like Mailgun's documented webhook payloads
// (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads).
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import { webhookTools } from '../helpers/webhooks.js';

const KEY = 'key-mailgun-signing-0123456789abcdef';
const ctx = contextSuite({ MAILGUN_SIGNING_KEY: KEY }, { workers: true });

function signature({
  key = KEY,
  timestamp = Math.floor(Date.now() / 1000),
  token = randomBytes(25).toString('hex'),
} = {}) {
  const ts = String(timestamp);
  return {
    token,
    timestamp: ts,
    signature: createHmac('sha256', key)
      .update(ts + token)
      .digest('hex'),
  };
}

const now = () => Date.now() / 1000;

function permanentFailure(recipient: string, messageId: string, extra: object = {}) {
  return {
    id: randomBytes(16).toString('base64url'),
    timestamp: now(),
    'log-level': 'error',
    event: 'failed',
    severity: 'permanent',
    reason: 'bounce',
    envelope: {
      sender: 'news@mg.bulletin.test',
      transport: 'smtp',
      targets: recipient,
    },
    flags: {
      'is-routed': false,
      'is-authenticated': true,
      'is-system-test': false,
      'is-test-mode': false,
    },
    'delivery-status': {
      'attempt-no': 1,
      message:
        "5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.",
      code: 550,
      'enhanced-code': '5.1.1',
      description: '',
      'session-seconds': 0.43,
      'mx-host': 'gmail-smtp-in.l.google.com',
    },
    message: {
      headers: {
        to: `Reader <${recipient}>`,
        'message-id': messageId,
        from: 'The Secretariat <news@mg.bulletin.test>',
        subject: 'Quarterly newsletter',
      },
      attachments: [],
      size: 4321,
    },
    recipient,
    'recipient-domain': recipient.split('@')[1],
    storage: {
      url: 'https://se.api.mailgun.net/v3/domains/mg.bulletin.test/messages/abc',
      key: 'abc',
    },
    campaigns: [],
    tags: ['newsletter'],
    'user-variables': {},
    ...extra,
  };
}

function temporaryFailure(recipient: string, messageId: string, attempt: number) {
  return permanentFailure(recipient, messageId, {
    severity: 'temporary',
    reason: 'generic',
    'log-level': 'warn',
    'delivery-status': {
      'attempt-no': attempt,
      message:
        '4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp',
      code: 452,
      'enhanced-code': '4.2.2',
      description: '',
      'retry-seconds': 600,
    },
  });
}

function simpleEvent(event: string, recipient: string, messageId: string) {
  return {
    id: randomBytes(16).toString('base64url'),
    timestamp: now(),
    'log-level': event === 'delivered' ? 'info' : 'warn',
    event,
    recipient,
    'recipient-domain': recipient.split('@')[1],
    message: { headers: { 'message-id': messageId, to: recipient, subject: 'Quarterly' } },
    tags: [],
    'user-variables': {},
    campaigns: [],
  };
}

function post(body: unknown) {
  return ctx.http
    .post('/webhooks/mailgun')
    .set('Content-Type', 'application/json')
    .send(typeof body === 'string' ? body : JSON.stringify(body));
}

const { subscriber, statusOf, allApplied, world, expectComplainedAndLeft } = webhookTools(
  () => ctx,
  'mg',
);

describe('mailgun webhook', () => {
  it('applies a signed permanent failure once, resolved by Message-ID; the same request again is refused', async () => {
    const s = await subscriber();
    const { rows } = await ctx.db.query(
      "INSERT INTO campaigns (name, subject) VALUES ('Q3', 'Q3') RETURNING id",
    );
    const messageId = `${randomUUID()}@bulletin.test`;
    await ctx.db.query(
      `INSERT INTO deliveries (campaign_id, subscriber_id, status, message_id) VALUES ($1, $2, 'sent', $3)`,
      [rows[0].id, s.id, `<${messageId}>`],
    );
    const body = JSON.stringify({
      signature: signature(),
      'event-data': permanentFailure(s.email, messageId),
    });
    const res = await post(body);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stored: 1, duplicates: 0 });
    await allApplied();
    expect(await statusOf(s.id)).toBe('bounced');
    const event = await ctx.db.query(
      "SELECT type, bounce_type, campaign_id, subscriber_id FROM events WHERE source = 'mailgun'",
    );
    expect(event.rows).toEqual([
      { type: 'bounce', bounce_type: 'hard', campaign_id: rows[0].id, subscriber_id: s.id },
    ]);

    const before = await world();
    const replay = await post(body);
    expect(replay.status).toBe(401);
    expect(replay.body.detail).toMatch(/already used/);
    // Mailgun sends the same event again with a new signature block: stored once only.
    const again = await post({
      signature: signature(),
      'event-data': JSON.parse(body)['event-data'],
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ stored: 0, duplicates: 1 });
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it.each([
    [
      'one changed byte in the signature',
      (sig: ReturnType<typeof signature>) => ({
        ...sig,
        signature: (sig.signature[0] === 'a' ? 'b' : 'a') + sig.signature.slice(1),
      }),
    ],
    [
      'one changed byte in the token',
      (sig: ReturnType<typeof signature>) => ({ ...sig, token: `x${sig.token.slice(1)}` }),
    ],
    [
      'a changed timestamp',
      (sig: ReturnType<typeof signature>) => ({
        ...sig,
        timestamp: String(Number(sig.timestamp) - 1),
      }),
    ],
    ['a signature under the wrong key', () => signature({ key: 'key-not-ours' })],
    [
      'a timestamp ten hours old',
      () => signature({ timestamp: Math.floor(Date.now() / 1000) - 10 * 3600 }),
    ],
    [
      'a timestamp ten minutes ahead',
      () => signature({ timestamp: Math.floor(Date.now() / 1000) + 600 }),
    ],
    ['no signature block', () => undefined],
  ])('refuses %s with 401 and changes nothing', async (_name, tamper) => {
    const s = await subscriber();
    const before = await world();
    const res = await post({
      signature: tamper(signature()),
      'event-data': simpleEvent('complained', s.email, `${randomUUID()}@bulletin.test`),
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('unauthorized');
    await drained(ctx);
    expect(await world()).toEqual(before);
  });

  it('refuses event-data swapped under a token that was already used', async () => {
    const victim = await subscriber();
    const other = await subscriber();
    const sig = signature();
    const first = await post({
      signature: sig,
      'event-data': simpleEvent('delivered', other.email, `${randomUUID()}@bulletin.test`),
    });
    expect(first.status).toBe(200);
    await allApplied();
    const before = await world();
    const forged = await post({
      signature: sig,
      'event-data': simpleEvent('complained', victim.email, `${randomUUID()}@bulletin.test`),
    });
    expect(forged.status).toBe(401);
    expect(await world()).toEqual(before);
    expect(await statusOf(victim.id)).toBe('active');
  });

  it('does not spend a token on a request that failed verification', async () => {
    const s = await subscriber();
    const sig = signature();
    const event = simpleEvent('unsubscribed', s.email, `${randomUUID()}@bulletin.test`);
    const bad = await post({
      signature: { ...sig, signature: '0'.repeat(64) },
      'event-data': event,
    });
    expect(bad.status).toBe(401);
    const good = await post({ signature: sig, 'event-data': event });
    expect(good.status).toBe(200);
    await allApplied();
  });

  it('counts the retries of one temporarily failing message as a single soft bounce', async () => {
    const s = await subscriber();
    const messages = [1, 2, 3].map(() => `${randomUUID()}@bulletin.test`);
    for (const attempt of [1, 2, 3]) {
      const res = await post({
        signature: signature(),
        'event-data': temporaryFailure(s.email, messages[0]!, attempt),
      });
      expect(res.status).toBe(200);
    }
    await allApplied();
    const count = await ctx.db.query(
      'SELECT count(*)::int AS n, min(bounce_type) AS t FROM events WHERE subscriber_id = $1',
      [s.id],
    );
    expect(count.rows[0]).toEqual({ n: 1, t: 'soft' });
    expect(await statusOf(s.id)).toBe('active');
    for (const messageId of messages.slice(1)) {
      await post({ signature: signature(), 'event-data': temporaryFailure(s.email, messageId, 1) });
    }
    await allApplied();
    expect(await statusOf(s.id)).toBe('bounced');
  });

  it('never suppresses for an ESP block or a 5.7.1 blocklist rejection', async () => {
    const s = await subscriber();
    const messageId = `${randomUUID()}@bulletin.test`;
    await post({
      signature: signature(),
      'event-data': permanentFailure(s.email, messageId, {
        reason: 'espblock',
        'delivery-status': {
          code: 605,
          message: '',
          description: 'Not delivering: blocked by ESP',
        },
      }),
    });
    await post({
      signature: signature(),
      'event-data': permanentFailure(s.email, messageId, {
        'delivery-status': {
          code: 554,
          message: '5.7.1 Service unavailable; Client host [192.0.2.1] blocked using Spamhaus',
          description: '',
        },
      }),
    });
    await allApplied();
    const events = await ctx.db.query('SELECT bounce_type FROM events WHERE subscriber_id = $1', [
      s.id,
    ]);
    expect(events.rows).toEqual([{ bounce_type: null }, { bounce_type: null }]);
    expect(await statusOf(s.id)).toBe('active');
  });

  it('applies complained and unsubscribed; a later delivered event undoes nothing', async () => {
    const { rows } = await ctx.db.query("INSERT INTO lists (name) VALUES ('MG') RETURNING id");
    const complainer = await subscriber([rows[0].id]);
    const leaver = await subscriber([rows[0].id]);
    const m1 = `${randomUUID()}@bulletin.test`;
    const m2 = `${randomUUID()}@bulletin.test`;
    await post({
      signature: signature(),
      'event-data': simpleEvent('complained', complainer.email, m1),
    });
    await post({
      signature: signature(),
      'event-data': simpleEvent('unsubscribed', leaver.email, m2),
    });
    await allApplied();
    await post({
      signature: signature(),
      'event-data': simpleEvent('delivered', complainer.email, m1),
    });
    await expectComplainedAndLeft(complainer.id, leaver.id);
  });

  it('answers 200 for events it does not act on (opened) and stores nothing', async () => {
    const s = await subscriber();
    const before = await world();
    const res = await post({
      signature: signature(),
      'event-data': simpleEvent('opened', s.email, `${randomUUID()}@bulletin.test`),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: 1, stored: 0, ignored: 1 });
    expect(await world()).toEqual(before);
  });
});
