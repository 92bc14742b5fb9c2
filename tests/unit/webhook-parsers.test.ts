// The pure side of webhooks: signature headers, constant-time helpers, bounce classification,
// and the generic and Mailgun normalisers (the other providers: webhook-parsers-providers).
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { macEquals, timestampFresh } from '../../src/api/webhooks/verify.js';
import { classifyBounce } from '../../src/domain/webhook-bounce.js';
import { eventTime, normaliseMessageId, PayloadError } from '../../src/domain/webhook-events.js';
import {
  genericBodySchema,
  normaliseGeneric,
  parseSignatureHeader,
} from '../../src/domain/webhook-generic.js';
import { normaliseMailgun, readMailgunSignature } from '../../src/domain/webhook-mailgun.js';

describe('Bulletin-Signature header', () => {
  const hex = 'a'.repeat(64);
  it.each([
    [`t=1700000000,v1=${hex}`, { timestamp: 1700000000, signatures: [hex] }],
    [` t=1700000000 , v1=${hex.toUpperCase()} `, { timestamp: 1700000000, signatures: [hex] }],
    [
      `t=1,v0=abc,v1=${hex},v1=${'b'.repeat(64)}`,
      { timestamp: 1, signatures: [hex, 'b'.repeat(64)] },
    ],
  ])('reads %s', (header, expected) => {
    expect(parseSignatureHeader(header)).toEqual(expected);
  });
  it.each([
    [undefined],
    [''],
    [`v1=${hex}`],
    ['t=1700000000'],
    [`t=1700000000,v1=${hex.slice(1)}`],
    [`t=-5,v1=${hex}`],
    [`t=17e8,v1=${hex}`],
    [`t=1,t=2,v1=${hex}`],
    [`t=1700000000;v1=${hex}`],
  ])('refuses %s', (header) => {
    expect(parseSignatureHeader(header)).toBeUndefined();
  });
});

describe('constant-time helpers', () => {
  const mac = createHmac('sha256', 'k').update('m').digest();
  it('compares a MAC with its hex form, whatever the case', () => {
    expect(macEquals(mac, mac.toString('hex'))).toBe(true);
    expect(macEquals(mac, mac.toString('hex').toUpperCase())).toBe(true);
    expect(macEquals(mac, mac.toString('hex').slice(2))).toBe(false);
    expect(macEquals(mac, `${mac.toString('hex').slice(2)}zz`)).toBe(false);
    expect(macEquals(mac, '')).toBe(false);
  });
  it('checks a timestamp window in both directions', () => {
    const now = 1_700_000_000_000;
    expect(timestampFresh(1_700_000_000 - 300, now, 300)).toBe(true);
    expect(timestampFresh(1_700_000_000 - 301, now, 300)).toBe(false);
    expect(timestampFresh(1_700_000_000 + 300, now, 300, 300)).toBe(true);
    expect(timestampFresh(1_700_000_000 + 301, now, 300, 300)).toBe(false);
    expect(timestampFresh(Number.NaN, now, 300)).toBe(false);
  });
});

describe('bounce classification', () => {
  it.each([
    [{ permanent: true, diagnostic: '550 5.1.1 user unknown' }, 'hard', false],
    [{ permanent: true, status: '5.1.1' }, 'hard', false],
    [{ permanent: false, status: '4.2.2' }, 'soft', false],
    [{ permanent: true, status: '5.2.2', diagnostic: 'mailbox full' }, 'soft', false],
    [{ permanent: true, diagnostic: '552-5.2.2 The email account is over quota' }, 'soft', false],
    [{ permanent: true, status: '5.7.1', diagnostic: 'blocked using Spamhaus' }, null, true],
    [{ permanent: true, diagnostic: '550 5.7.26 unauthenticated' }, null, true],
    [{ permanent: false, diagnostic: '451 4.7.1 greylisted, try again' }, null, true],
    [{ permanent: true, diagnostic: '554 Your IP is listed on a blocklist' }, null, true],
    [
      { permanent: true, diagnostic: '550 5.1.1 user unknown; see our block policy' },
      'hard',
      false,
    ],
    [{ diagnostic: '550 Requested action not taken: mailbox unavailable' }, 'hard', false],
    [{ diagnostic: '452 Too many recipients', smtpCode: 452 }, 'soft', false],
    [{ status: '4.4.7' }, 'soft', false],
    [{ status: 'garbage', diagnostic: '550 5.1.1 unknown' }, 'hard', false],
    [{}, 'hard', false],
  ])('%j → %s', (facts, bounceType, senderBlame) => {
    expect(classifyBounce(facts)).toMatchObject({ bounceType, senderBlame });
  });
});

describe('small normalisers', () => {
  it.each([
    ['<abc.123@host.example>', 'abc.123@host.example'],
    ['  abc@host  ', 'abc@host'],
    ['abc@host', 'abc@host'],
    ['<>', null],
    ['two words@host', null],
    [42, null],
  ])('Message-ID %j → %j', (value, expected) => {
    expect(normaliseMessageId(value)).toBe(expected);
  });
  it('reads Unix seconds, fractional seconds and ISO dates', () => {
    expect(eventTime(1521233195.375)?.toISOString()).toBe('2018-03-16T20:46:35.375Z');
    expect(eventTime('1513299569')?.toISOString()).toBe('2017-12-15T00:59:29.000Z');
    expect(eventTime('2014-08-01T13:28:10.2735393-04:00')?.toISOString()).toBe(
      '2014-08-01T17:28:10.273Z',
    );
    expect(eventTime('not a date')).toBeNull();
  });
});

describe('generic normaliser', () => {
  const parse = (events: object[]) => {
    const raw = { events };
    return normaliseGeneric(genericBodySchema.parse(raw), raw).events;
  };
  it('keeps the sender’s verdict but lets 5.7.x and x.2.2 speak', () => {
    const [hard, blame, full, bare] = parse([
      { id: '1', type: 'bounce', email: 'A@Example.ORG', bounceType: 'hard', reason: '550 5.1.1' },
      { id: '2', type: 'bounce', email: 'a@example.org', bounceType: 'hard', reason: '5.7.1 spam' },
      { id: '3', type: 'bounce', email: 'a@example.org', bounceType: 'hard', reason: '5.2.2 full' },
      { id: '4', type: 'bounce', email: 'a@example.org' },
    ]);
    expect(hard).toMatchObject({
      bounceType: 'hard',
      email: 'A@example.org',
      providerEventId: '1',
    });
    expect(blame).toMatchObject({ bounceType: null });
    expect(full).toMatchObject({ bounceType: 'soft' });
    expect(bare).toMatchObject({ bounceType: 'hard' });
  });
  it('reads campaignId as a uuid or a numeric id', () => {
    const uuid = '0b9e7f0c-3d59-4b7e-9d43-2f6a1f3c9a10';
    const events = parse([
      { id: '1', type: 'unsubscribe', email: 'a@example.org', campaignId: uuid.toUpperCase() },
      { id: '2', type: 'unsubscribe', email: 'a@example.org', campaignId: 12 },
      { id: '3', type: 'unsubscribe', email: 'a@example.org', campaignId: '13' },
    ]);
    expect(events.map((e) => e.campaign)).toEqual([{ uuid }, { id: 12 }, { id: 13 }]);
  });
});

// Shapes from https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads
describe('mailgun normaliser', () => {
  const eventData = (extra: object) => ({
    'event-data': {
      id: 'G9Bn5sl1TC6nu79C8C0bwg',
      timestamp: 1521233195.375624,
      recipient: 'alice@example.com',
      message: { headers: { 'message-id': '20130503192659.13651.20287@mg.bulletin.test' } },
      ...extra,
    },
  });
  it('reads the signature block', () => {
    expect(
      readMailgunSignature({
        signature: {
          timestamp: '1529006854',
          token: 'a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0',
          signature: 'd2271d12299f6592d9d44cd9d250f0704e4674c30d79d07c47a66f95ce71cf55',
        },
      }),
    ).toMatchObject({ timestamp: '1529006854' });
    expect(
      readMailgunSignature({ signature: { timestamp: 'x', token: 't', signature: 's' } }),
    ).toBeUndefined();
    expect(readMailgunSignature({})).toBeUndefined();
  });
  it('maps a permanent failure to a hard bounce with the Message-ID', () => {
    const [event] = normaliseMailgun(
      eventData({
        event: 'failed',
        severity: 'permanent',
        reason: 'bounce',
        'delivery-status': {
          code: 550,
          message: '5.1.1 The email account does not exist',
          description: '',
        },
      }),
    ).events;
    expect(event).toMatchObject({
      type: 'bounce',
      bounceType: 'hard',
      email: 'alice@example.com',
      messageId: '20130503192659.13651.20287@mg.bulletin.test',
      providerEventId: 'failed:G9Bn5sl1TC6nu79C8C0bwg:1521233195.375624:alice@example.com',
    });
    expect(event!.occurredAt?.toISOString()).toBe('2018-03-16T20:46:35.375Z');
  });
  it('maps Mailgun suppressions to what caused them', () => {
    const kinds = ['suppress-bounce', 'suppress-complaint', 'suppress-unsubscribe', 'espblock'].map(
      (reason) =>
        normaliseMailgun(
          eventData({
            event: 'failed',
            severity: 'permanent',
            reason,
            'delivery-status': { code: 605 },
          }),
        ).events[0],
    );
    expect(kinds.map((e) => [e!.type, e!.bounceType])).toEqual([
      ['bounce', 'hard'],
      ['complaint', null],
      ['unsubscribe', null],
      ['bounce', null],
    ]);
  });
  it('keys temporary failures by message and recipient, so retries collapse', () => {
    const attempt = (n: number) =>
      normaliseMailgun(
        eventData({
          id: `attempt-${n}`,
          event: 'failed',
          severity: 'temporary',
          reason: 'generic',
          'delivery-status': { 'attempt-no': n, code: 452, message: '4.2.2 over quota' },
        }),
      ).events[0]!;
    expect(attempt(1).bounceType).toBe('soft');
    expect(attempt(1).providerEventId).toBe(attempt(2).providerEventId);
  });
  it('ignores accepted/opened/clicked and refuses a payload without event-data', () => {
    expect(normaliseMailgun(eventData({ event: 'opened' }))).toEqual({ events: [], ignored: 1 });
    expect(() => normaliseMailgun({ signature: {} })).toThrow(PayloadError);
  });
});

// Shapes from https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
