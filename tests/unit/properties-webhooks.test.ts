// Property-based tests of the webhook parsers and the generic signature check (fast-check):
// whatever a verified-but-hostile provider sends, a parser either refuses it with its own
// PayloadError or yields well-formed events; the signature check accepts exactly the signed
// (timestamp, body) pair and nothing one character away from it.
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Request, Response } from 'express';
import { genericWebhook } from '../../src/api/webhooks/generic.js';
import { AppError } from '../../src/domain/errors.js';
import { normalizeEmail } from '../../src/domain/email.js';
import {
  parseDeliveryStatus,
  parseFeedbackReport,
  parseFieldBlocks,
} from '../../src/domain/dsn.js';
import { PayloadError, type Normalised } from '../../src/domain/webhook-events.js';
import { normaliseMailgun } from '../../src/domain/webhook-mailgun.js';
import { normalisePostmark } from '../../src/domain/webhook-postmark.js';
import { normaliseSendgrid } from '../../src/domain/webhook-sendgrid.js';
import { normaliseSes, readSnsMessage } from '../../src/domain/webhook-ses.js';

const TYPES = ['bounce', 'complaint', 'unsubscribe', 'delivered'];

/** Every event a parser yields is well-formed; a refusal is its own PayloadError. */
function wellFormedOrRefused(parse: () => Normalised): void {
  let result: Normalised;
  try {
    result = parse();
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadError);
    return;
  }
  expect(result.ignored).toBeGreaterThanOrEqual(0);
  for (const e of result.events) {
    expect(TYPES).toContain(e.type);
    expect([null, 'hard', 'soft']).toContain(e.bounceType);
    if (e.type !== 'bounce') expect(e.bounceType).toBeNull();
    if (e.email !== null) {
      const checked = normalizeEmail(e.email);
      expect(checked).toEqual({ ok: true, email: e.email });
    }
    expect(typeof e.providerEventId).toBe('string');
    expect(e.providerEventId.length).toBeLessThanOrEqual(500);
    if (e.reason !== null) expect(e.reason.length).toBeLessThanOrEqual(1000);
  }
}

/** Provider-shaped objects with hostile values in the fields parsers read. */
const hostile = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      event: fc.oneof(
        fc.constantFrom(
          'bounce',
          'dropped',
          'spamreport',
          'unsubscribe',
          'failed',
          'complained',
          'delivered',
        ),
        fc.string(),
      ),
      email: fc.oneof(fc.emailAddress(), fc.string(), fc.jsonValue()),
      recipient: fc.oneof(fc.emailAddress(), fc.string()),
      Email: fc.oneof(fc.emailAddress(), fc.string()),
      RecordType: fc.oneof(
        fc.constantFrom('Bounce', 'SpamComplaint', 'SubscriptionChange'),
        fc.string(),
      ),
      Type: fc.oneof(fc.constantFrom('HardBounce', 'SoftBounce', 'SpamNotification'), fc.string()),
      ID: fc.oneof(fc.integer(), fc.string()),
      sg_event_id: fc.string(),
      severity: fc.constantFrom('permanent', 'temporary', 'x'),
      reason: fc.string(),
      timestamp: fc.oneof(fc.integer(), fc.string(), fc.double()),
      'event-data': fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
);

describe('provider parsers never fail but with their own PayloadError', () => {
  it('Mailgun', () => {
    fc.assert(
      fc.property(hostile, (body) => wellFormedOrRefused(() => normaliseMailgun(body))),
      {
        numRuns: 400,
      },
    );
    fc.assert(
      fc.property(hostile, (data) =>
        wellFormedOrRefused(() => normaliseMailgun({ signature: {}, 'event-data': data })),
      ),
      { numRuns: 400 },
    );
  });

  it('SendGrid (a batch of events)', () => {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.array(hostile, { maxLength: 5 })), (body) =>
        wellFormedOrRefused(() => normaliseSendgrid(body)),
      ),
      { numRuns: 400 },
    );
  });

  it('Postmark', () => {
    fc.assert(
      fc.property(hostile, (body) => wellFormedOrRefused(() => normalisePostmark(body))),
      {
        numRuns: 400,
      },
    );
  });

  it('Amazon SES through SNS, whatever the notification holds', () => {
    const sns = (message: string) => ({
      Type: 'Notification',
      MessageId: 'm-1',
      TopicArn: 'arn:aws:sns:eu-west-1:123456789012:ses',
      Message: message,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      Signature: 'x',
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
    });
    const messages = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          notificationType: fc.constantFrom('Bounce', 'Complaint', 'Delivery', 'x'),
          eventType: fc.constantFrom('Bounce', 'Complaint', 'x'),
          bounce: fc.jsonValue(),
          complaint: fc.jsonValue(),
          mail: fc.jsonValue(),
        })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(messages, (m) => wellFormedOrRefused(() => normaliseSes(readSnsMessage(sns(m))))),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.jsonValue(), (body) =>
        wellFormedOrRefused(() => normaliseSes(readSnsMessage(body))),
      ),
      { numRuns: 200 },
    );
  });

  it('the DSN and complaint-report parsers never throw on any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        parseFieldBlocks(text);
        parseDeliveryStatus(text);
        parseFeedbackReport(text);
      }),
      { numRuns: 400 },
    );
  });
});

describe('the generic webhook', () => {
  const SECRET = 'property-webhook-secret-0123456789';
  const NOW = 1_800_000_000_000;
  const handler = genericWebhook(SECRET, () => NOW);
  const handle = (req: Request) => handler(req, {} as Response);
  const request = (header: string | undefined, body: Buffer) =>
    ({
      get: (name: string) => (name.toLowerCase() === 'bulletin-signature' ? header : undefined),
      body,
    }) as unknown as Request;
  const sign = (t: number, body: Buffer) =>
    createHmac('sha256', SECRET).update(`${t}.`).update(body).digest('hex');

  const event = fc
    .record({
      id: fc
        .string({ minLength: 1, maxLength: 40 })
        // eslint-disable-next-line no-control-regex
        .filter((s) => s.trim() !== '' && !/[\u0000-\u001f\u007f]/.test(s)),
      type: fc.constantFrom('bounce', 'complaint', 'unsubscribe'),
      email: fc.emailAddress().filter((e) => normalizeEmail(e).ok),
      bounceType: fc.constantFrom('hard', 'soft'),
    })
    // bounceType belongs to bounces only (others with one are refused: tested below).
    .map((e) => (e.type === 'bounce' ? e : { id: e.id, type: e.type, email: e.email }));

  it('keeps id, type, address and bounce type of any correctly signed batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(event, { minLength: 1, maxLength: 5, selector: (e) => e.id }),
        async (events) => {
          const body = Buffer.from(JSON.stringify({ events }));
          const t = NOW / 1000;
          const { normalised } = await handle(request(`t=${t},v1=${sign(t, body)}`, body));
          expect(
            normalised.events.map((e) => [e.providerEventId, e.type, e.email, e.bounceType]),
          ).toEqual(
            events.map((e) => [
              e.id,
              e.type,
              (normalizeEmail(e.email) as { email: string }).email,
              'bounceType' in e ? e.bounceType : null,
            ]),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('refuses every one-character change of the signature, the body or the timestamp with 401', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.nat(), fc.nat(), async (value, where, what) => {
        const body = Buffer.from(JSON.stringify(value ?? null));
        const t = NOW / 1000;
        const signature = sign(t, body);
        const hex = '0123456789abcdef';
        const i = where % signature.length;
        const flipped =
          signature.slice(0, i) +
          hex[(hex.indexOf(signature[i]!) + 1 + (what % 15)) % 16] +
          signature.slice(i + 1);
        const changedBody = Buffer.from(body);
        changedBody[where % body.length] =
          (changedBody[where % body.length]! + 1 + (what % 255)) % 256;
        for (const [header, sent] of [
          [`t=${t},v1=${flipped}`, body],
          [`t=${t},v1=${signature}`, changedBody],
          [`t=${t + 1 + (what % 100)},v1=${signature}`, body],
        ] as const) {
          const refused = await Promise.resolve()
            .then(() => handle(request(header, sent)))
            .then(
              () => undefined,
              (e: unknown) => e,
            );
          expect(refused).toBeInstanceOf(AppError);
          expect((refused as AppError).code).toBe('unauthorized');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('answers any signed body with events or a validation error, never anything else', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue(), fc.record({ events: fc.array(fc.jsonValue(), { maxLength: 3 }) })),
        async (value) => {
          const body = Buffer.from(JSON.stringify(value ?? null));
          const t = NOW / 1000;
          try {
            const { normalised } = await handle(request(`t=${t},v1=${sign(t, body)}`, body));
            wellFormedOrRefused(() => normalised);
          } catch (error) {
            const known =
              error instanceof PayloadError ||
              (error instanceof AppError && error.code === 'validation_failed');
            expect(known, String(error)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
