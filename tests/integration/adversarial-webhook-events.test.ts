// Hostile events inside correctly signed webhook bodies: wrong types, unknown types,
// missing or invalid addresses, and reasons with line breaks, NUL and lone surrogates.
// The generic webhook is Bulletin's own format: one bad event refuses the whole batch with a
// 400 naming it by index. A provider's batch is never refused for one event it cannot use (the
// provider would retry, or drop, the whole batch with the good events in it): the rest is
// stored and applied, the bad one ignored or recorded without a subscriber.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contextSuite } from '../helpers/suite.js';
import { drained } from '../helpers/drain.js';
import { stateOf } from '../helpers/state.js';
import * as wh from '../helpers/webhooks.js';

const SECRET = 'generic-webhook-secret-events-0123456';
const PM = { user: 'postmark', password: 'postmark-password-0123456789' };
const sendgridKey = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

const ctx = contextSuite(
  {
    // Clients are told apart by X-Forwarded-For, as behind a reverse proxy on this machine.
    TRUST_PROXY: 'loopback',
    WEBHOOK_SECRET: SECRET,
    POSTMARK_WEBHOOK_USER: PM.user,
    POSTMARK_WEBHOOK_PASSWORD: PM.password,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgridKey.publicKey
      .export({ type: 'spki', format: 'der' })
      .toString('base64'),
  },
  { workers: true },
);

let ip = 0;
const nextIp = () => `198.51.100.${++ip}`;
const { postGeneric, postSendgrid, postPostmark } = wh.webhookSenders(() => ctx, {
  genericSecret: SECRET,
  postmark: PM,
  sendgridKey,
  nextIp,
});
const uid = () => randomBytes(6).toString('hex');

const subscriber = () => wh.insertSubscriber(ctx, `ev-${uid()}@webhooks.test`);

const sgEvent = (event: string, email: unknown, extra: object = {}) => ({
  email,
  timestamp: wh.nowSeconds(),
  event,
  sg_event_id: uid(),
  'smtp-id': `<${uid()}@bulletin.test>`,
  ...extra,
});

async function storedEvent(source: string, providerEventId: string) {
  const { rows } = await ctx.db.query<{
    type: string;
    email: string | null;
    subscriber_id: number | null;
    reason: string | null;
    payload: Record<string, unknown>;
  }>(
    'SELECT type, email, subscriber_id, reason, payload FROM events WHERE source = $1 AND provider_event_id = $2',
    [source, providerEventId],
  );
  return rows[0];
}

describe('generic webhook: one bad event refuses the batch, by index', () => {
  it.each([
    ['a number as the address', { email: 42 }, 'events.1.email'],
    ['no address', { email: undefined }, 'events.1.email'],
    ['a smuggled second recipient', { email: 'a@x.test,b@y.test' }, 'events.1.email'],
    ['a look-alike domain', { email: 'ops@pаypal.test' }, 'events.1.email'],
    ['an unknown type', { type: 'delivered' }, 'events.1.type'],
    ['a type of the wrong kind', { type: ['bounce'] }, 'events.1.type'],
    ['an object as the id', { id: { $ne: null } }, 'events.1.id'],
    ['NUL in the reason', { reason: '550\u0000 5.1.1' }, 'events.1.reason'],
    ['an escape sequence in the reason', { reason: '550 \u001b[2J' }, 'events.1.reason'],
  ])(
    '%s: 400 naming the event by index; the good one before it is not stored',
    async (_what, bad, path) => {
      const good = await subscriber();
      const victim = await subscriber();
      const body = JSON.stringify({
        events: [
          { id: `good-${uid()}`, type: 'complaint', email: good.email },
          { id: `bad-${uid()}`, type: 'complaint', email: victim.email, ...bad },
        ],
      });
      await wh.allEventsApplied(ctx);
      const before = await stateOf(ctx);
      const res = await postGeneric(body);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.errors.map((e: { path: string }) => e.path)).toEqual([path]);
      await drained(ctx);
      expect(await stateOf(ctx)).toEqual(before);
    },
  );
});

describe('provider batches: bad events are skipped, the good ones applied', () => {
  it('SendGrid: a batch with junk events stores and applies the unsubscribe it carries', async () => {
    const good = await subscriber();
    const bystander = await subscriber();
    const junk = [
      sgEvent('bounce', 'not an address'),
      sgEvent('bounce', undefined),
      sgEvent('bounce', ['a@x.test', bystander.email]),
      sgEvent('bounce', `${bystander.email}\r\nBcc: all@evil.test`),
      sgEvent('spamreport', bystander.email, { sg_event_id: undefined }),
      sgEvent('teleported', bystander.email),
      { ...sgEvent('bounce', bystander.email), event: 42 },
      'spamreport',
      null,
    ];
    const unsubscribe = sgEvent('unsubscribe', good.email);
    const res = await postSendgrid(JSON.stringify([...junk, unsubscribe]));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: 10, stored: 5, duplicates: 0, ignored: 5 });
    await wh.allEventsApplied(ctx);
    expect(await storedEvent('sendgrid', unsubscribe.sg_event_id)).toMatchObject({
      type: 'unsubscribe',
      subscriber_id: good.id,
    });
    // The bounces with unusable addresses are kept for the record, attached to nobody.
    const { rows } = await ctx.db.query(
      "SELECT email, subscriber_id FROM events WHERE source = 'sendgrid' AND type = 'bounce'",
    );
    expect(rows).toEqual(Array(4).fill({ email: null, subscriber_id: null }));
    expect(await wh.subscriberStatus(ctx, bystander.id)).toBe('active');
  });

  it('Postmark: a bounce for an invalid address is recorded against nobody; no one changes', async () => {
    const bystander = await subscriber();
    await wh.allEventsApplied(ctx);
    const subscribersBefore = await ctx.db.query('SELECT id, status FROM subscribers ORDER BY id');
    const res = await postPostmark(
      JSON.stringify({
        RecordType: 'Bounce',
        ID: 9001,
        Type: 'HardBounce',
        Email: `"${bystander.email}"@x y`,
        Details: 'smtp;550 5.1.1 unknown user',
        BouncedAt: new Date().toISOString(),
      }),
    );
    expect(res.status).toBe(200);
    await wh.allEventsApplied(ctx);
    expect(await storedEvent('postmark', 'Bounce:9001')).toMatchObject({
      email: null,
      subscriber_id: null,
    });
    expect((await ctx.db.query('SELECT id, status FROM subscribers ORDER BY id')).rows).toEqual(
      subscribersBefore.rows,
    );
  });
});

describe('line breaks and control characters in reasons', () => {
  it('generic: a multi-line SMTP reply is stored as one line', async () => {
    const s = await subscriber();
    const id = `crlf-${uid()}`;
    const reason = '550-5.1.1 The account does not exist.\r\n550 5.1.1 Try again.\r\nBcc: x@y.test';
    const body = JSON.stringify({ events: [{ id, type: 'bounce', email: s.email, reason }] });
    expect((await postGeneric(body)).status).toBe(200);
    await wh.allEventsApplied(ctx);
    const event = await storedEvent('generic', id);
    expect(event!.reason).toBe(
      '550-5.1.1 The account does not exist. 550 5.1.1 Try again. Bcc: x@y.test',
    );
    // The payload is kept as sent, for audits.
    expect(event!.payload).toMatchObject({ reason });
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('bounced');
  });

  it('SendGrid: NUL, escape sequences and line breaks in a reason do not cost the batch', async () => {
    const bounced = await subscriber();
    const leaving = await subscriber();
    const bounce = sgEvent('bounce', bounced.email, {
      reason: '550 5.1.1\u0000 no such user\r\n\u001b[31mred\u001b[0m\u2028next',
      status: '5.1.1',
      'smtp-id': `<${uid()}\u0000@bulletin.test>`,
      ['x\u0000key']: 'v',
    });
    const unsubscribe = sgEvent('unsubscribe', leaving.email);
    const res = await postSendgrid(JSON.stringify([bounce, unsubscribe]));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ stored: 2 });
    await wh.allEventsApplied(ctx);
    const event = await storedEvent('sendgrid', bounce.sg_event_id);
    expect(event!.reason).toBe('550 5.1.1 no such user [31mred[0m next');
    // jsonb cannot hold NUL: it is marked in the stored payload, nothing else is changed.
    expect(event!.payload).toMatchObject({ reason: expect.stringMatching(/^550 5\.1\.1\uFFFD /) });
    expect(event!.payload['x\uFFFDkey']).toBe('v');
    expect(await wh.subscriberStatus(ctx, bounced.id)).toBe('bounced');
    expect(await storedEvent('sendgrid', unsubscribe.sg_event_id)).toMatchObject({
      subscriber_id: leaving.id,
    });
  });

  it('Postmark: a lone surrogate escape in the details is stored, not a 500', async () => {
    const s = await subscriber();
    const body = `{"RecordType":"Bounce","ID":9002,"Type":"HardBounce","Email":"${s.email}",
      "Details":"smtp;550 5.1.1 \\ud800 gone","BouncedAt":"${new Date().toISOString()}"}`;
    const res = await postPostmark(body);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    await wh.allEventsApplied(ctx);
    const event = await storedEvent('postmark', 'Bounce:9002');
    expect(event!.reason).toBe('smtp;550 5.1.1 \uFFFD gone');
    expect(event!.payload.Details).toBe('smtp;550 5.1.1 \uFFFD gone');
    expect(await wh.subscriberStatus(ctx, s.id)).toBe('bounced');
  });
});
