// The pure side of the SendGrid, Amazon SES (SNS) and Postmark webhooks: each provider's
// normaliser with payloads in its own shape, and SNS's canonical strings and URL checks.
import { describe, expect, it } from 'vitest';
import { PayloadError } from '../../src/domain/webhook-events.js';
import {
  normalisePostmark,
  parseBasicAuth,
  quoteLargeIds,
} from '../../src/domain/webhook-postmark.js';
import { normaliseSendgrid } from '../../src/domain/webhook-sendgrid.js';
import {
  isSnsUrl,
  normaliseSes,
  readSnsMessage,
  snsStringToSign,
  snsTimestampFresh,
  type SnsMessage,
} from '../../src/domain/webhook-ses.js';

describe('sendgrid normaliser', () => {
  const base = {
    email: 'example@test.com',
    timestamp: 1513299569,
    'smtp-id': '<14c5d75ce93.dfd.64b469@ismtpd-555>',
    category: 'cat facts',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
  };
  it('maps each documented event', () => {
    const { events, ignored } = normaliseSendgrid([
      { ...base, event: 'processed', sg_event_id: 'p' },
      {
        ...base,
        event: 'deferred',
        sg_event_id: 'd',
        response: '400 try again later',
        attempt: '5',
      },
      { ...base, event: 'delivered', sg_event_id: 'ok', response: '250 OK' },
      {
        ...base,
        event: 'bounce',
        sg_event_id: 'b',
        reason: '500 unknown recipient',
        status: '5.0.0',
        type: 'bounce',
      },
      {
        ...base,
        event: 'bounce',
        sg_event_id: 'bl',
        reason: '554 blocked',
        status: '5.0.0',
        type: 'blocked',
      },
      { ...base, event: 'dropped', sg_event_id: 'dr', reason: 'Bounced Address', status: '5.0.0' },
      {
        ...base,
        event: 'dropped',
        sg_event_id: 'ds',
        reason: 'Spam Content (if spam checker app enabled)',
      },
      { ...base, event: 'spamreport', sg_event_id: 's' },
      { ...base, event: 'unsubscribe', sg_event_id: 'u' },
      { ...base, event: 'group_unsubscribe', sg_event_id: 'g', asm_group_id: 10 },
      { ...base, event: 'open', sg_event_id: 'o', sg_machine_open: false },
      { ...base, event: 'bounce', reason: 'no event id' },
      'not an object',
    ]);
    expect(events.map((e) => [e.providerEventId, e.type, e.bounceType])).toEqual([
      ['ok', 'delivered', null],
      ['b', 'bounce', 'hard'],
      ['bl', 'bounce', null],
      ['dr', 'bounce', 'hard'],
      ['s', 'complaint', null],
      ['u', 'unsubscribe', null],
      ['g', 'unsubscribe', null],
    ]);
    expect(ignored).toBe(6);
    expect(events[0]).toMatchObject({
      email: 'example@test.com',
      messageId: '14c5d75ce93.dfd.64b469@ismtpd-555',
    });
  });
  it('refuses a body that is not an array', () => {
    expect(() => normaliseSendgrid({ event: 'bounce' })).toThrow(PayloadError);
  });
});

// Canonical strings from https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
describe('SNS', () => {
  const notification: SnsMessage = {
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-west-2:123456789012:MyTopic',
    Subject: 'My First Message',
    Message: 'Hello world!',
    Timestamp: '2012-05-02T00:54:06.655Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLEw6JRN…',
    SigningCertURL:
      'https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem',
  };
  it('builds the Notification string to sign, with and without Subject', () => {
    expect(snsStringToSign(notification)).toBe(
      'Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n' +
        'Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n',
    );
    const { Subject: _subject, ...noSubject } = notification;
    expect(snsStringToSign(noSubject)).not.toContain('Subject');
  });
  it('builds the SubscriptionConfirmation string to sign', () => {
    const confirmation: SnsMessage = {
      ...notification,
      Type: 'SubscriptionConfirmation',
      Token: 'tok',
      SubscribeURL: 'https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=tok',
    };
    expect(snsStringToSign(confirmation)).toBe(
      'Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\n' +
        'SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=tok\n' +
        'Timestamp\n2012-05-02T00:54:06.655Z\nToken\ntok\n' +
        'TopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n',
    );
  });
  it.each([
    ['https://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem', true],
    ['https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem', true],
    ['http://sns.us-west-2.amazonaws.com/SimpleNotificationService-abc.pem', false],
    ['https://sns.us-west-2.amazonaws.com.evil.example/x.pem', false],
    ['https://evil.example/sns.us-west-2.amazonaws.com/x.pem', false],
    ['https://s3.us-west-2.amazonaws.com/x.pem', false],
    ['https://sns.us-west-2.amazonaws.com:444/x.pem', false],
    ['https://me@sns.us-west-2.amazonaws.com/x.pem', false],
    ['https://sns.us-west-2.amazonaws.com/x.txt', false],
    ['not a url', false],
  ])('certificate URL %s allowed: %s', (url, allowed) => {
    expect(isSnsUrl(url, 'certificate')).toBe(allowed);
  });
  it('accepts a Timestamp up to an hour (SNS’s retry limit) old', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(snsTimestampFresh('2024-01-01T11:01:00.000Z', now)).toBe(true);
    expect(snsTimestampFresh('2024-01-01T10:30:00.000Z', now)).toBe(false);
    expect(snsTimestampFresh('2024-01-01T12:10:00.000Z', now)).toBe(false);
    expect(snsTimestampFresh('yesterday', now)).toBe(false);
  });
  it('refuses envelopes missing documented fields', () => {
    expect(() => readSnsMessage({ ...notification, SignatureVersion: '3' })).toThrow(PayloadError);
    expect(() => readSnsMessage({ ...notification, Type: 'Other' })).toThrow(PayloadError);
    expect(() => readSnsMessage({ ...notification, Type: 'SubscriptionConfirmation' })).toThrow(
      /SubscribeURL/,
    );
    expect(readSnsMessage(notification)).toBe(notification);
  });

  // From "Amazon SNS notification examples for Amazon SES".
  const ses = (message: object): SnsMessage => ({
    ...notification,
    Message: JSON.stringify(message),
  });
  const mail = {
    timestamp: '2016-01-27T14:59:38.237Z',
    messageId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa0680-000000',
    source: 'john@example.com',
    destination: ['jane@example.com', 'mary@example.com', 'richard@example.com'],
    headersTruncated: false,
    headers: [{ name: 'Message-ID', value: '<custom-message-ID@bulletin.test>' }],
    commonHeaders: { messageId: '<custom-message-ID@bulletin.test>', subject: 'Hello' },
  };
  it('normalises a bounce per recipient', () => {
    const { events } = normaliseSes(
      ses({
        notificationType: 'Bounce',
        bounce: {
          bounceType: 'Permanent',
          reportingMTA: 'dns; email.example.com',
          bouncedRecipients: [
            {
              emailAddress: 'jane@example.com',
              status: '5.1.1',
              action: 'failed',
              diagnosticCode: 'smtp; 550 5.1.1 <jane@example.com>... User',
            },
            {
              emailAddress: 'mary@example.com',
              status: '5.2.2',
              action: 'failed',
              diagnosticCode: 'smtp; 552 5.2.2 Mailbox full',
            },
          ],
          bounceSubType: 'General',
          timestamp: '2016-01-27T14:59:38.237Z',
          feedbackId: '00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000',
        },
        mail,
      }),
    );
    expect(events.map((e) => [e.email, e.bounceType, e.messageId, e.providerEventId])).toEqual([
      [
        'jane@example.com',
        'hard',
        'custom-message-ID@bulletin.test',
        'bounce:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:jane@example.com',
      ],
      [
        'mary@example.com',
        'soft',
        'custom-message-ID@bulletin.test',
        'bounce:00000138111222aa-33322211-cccc-cccc-cccc-ddddaaaa068a-000000:mary@example.com',
      ],
    ]);
  });
  it('reads event publishing (eventType) as well, and ignores not-spam and DeliveryDelay', () => {
    const complaint = (type: string | undefined) =>
      normaliseSes(
        ses({
          eventType: 'Complaint',
          complaint: {
            complainedRecipients: [{ emailAddress: 'richard@example.com' }],
            timestamp: '2016-01-27T14:59:38.237Z',
            feedbackId: 'f',
            ...(type ? { complaintFeedbackType: type } : {}),
          },
          mail,
        }),
      );
    expect(complaint('abuse').events[0]).toMatchObject({
      type: 'complaint',
      email: 'richard@example.com',
    });
    expect(complaint(undefined).events).toHaveLength(1);
    expect(complaint('not-spam')).toEqual({ events: [], ignored: 1 });
    expect(normaliseSes(ses({ eventType: 'DeliveryDelay', mail }))).toEqual({
      events: [],
      ignored: 1,
    });
    expect(normaliseSes({ ...notification, Message: 'plain text' })).toEqual({
      events: [],
      ignored: 1,
    });
  });
});

// Shapes from https://postmarkapp.com/developer/webhooks/bounce-webhook and siblings.
describe('postmark normaliser', () => {
  it('keeps 64-bit IDs exact and leaves strings alone', () => {
    expect(quoteLargeIds('{"ID": 4323372036854775807, "Details": "x \\"ID\\": 5"}')).toBe(
      '{"ID": "4323372036854775807", "Details": "x \\"ID\\": 5"}',
    );
    expect(JSON.parse(quoteLargeIds('{"ID":42}'))).toEqual({ ID: '42' });
  });
  it('reads basic auth', () => {
    const header = `Basic ${Buffer.from('user:pa:ss').toString('base64')}`;
    expect(parseBasicAuth(header)).toEqual({ user: 'user', password: 'pa:ss' });
    expect(parseBasicAuth('Bearer x')).toBeUndefined();
    expect(parseBasicAuth(undefined)).toBeUndefined();
  });
  it.each([
    ['HardBounce', 'bounce', 'hard'],
    ['BadEmailAddress', 'bounce', 'hard'],
    ['SoftBounce', 'bounce', 'soft'],
    ['Transient', 'bounce', 'soft'],
    ['DnsError', 'bounce', 'soft'],
    ['Blocked', 'bounce', null],
    ['DMARCPolicy', 'bounce', null],
    ['Unsubscribe', 'unsubscribe', null],
    ['SpamComplaint', 'complaint', null],
  ])('maps bounce Type %s to %s/%s', (type, kind, bounceType) => {
    const [event] = normalisePostmark({
      RecordType: 'Bounce',
      ID: '42',
      Type: type,
      MessageID: '883953f4-6105-42a2-a16a-77a8eac79483',
      Details: 'Test bounce details',
      Email: 'john@example.com',
      BouncedAt: '2019-11-05T16:33:54.9070259Z',
    }).events;
    expect(event).toMatchObject({ type: kind, bounceType, providerEventId: 'Bounce:42' });
  });
  it.each([['AutoResponder'], ['AddressChange'], ['ChallengeVerification'], ['Unknown']])(
    'ignores bounce Type %s',
    (type) => {
      expect(normalisePostmark({ RecordType: 'Bounce', ID: '1', Type: type }).ignored).toBe(1);
    },
  );
  it('maps subscription changes by suppression reason, and ignores reactivations and opens', () => {
    const change = (extra: object) =>
      normalisePostmark({
        RecordType: 'SubscriptionChange',
        MessageID: null,
        ChangedAt: '2020-02-01T10:53:34.416071Z',
        Recipient: 'bounced-address@wildbit.com',
        Origin: 'Recipient',
        SuppressSending: true,
        SuppressionReason: 'HardBounce',
        ...extra,
      });
    expect(change({}).events[0]).toMatchObject({ type: 'bounce', bounceType: 'hard' });
    expect(change({ SuppressionReason: 'SpamComplaint' }).events[0]?.type).toBe('complaint');
    expect(change({ SuppressionReason: 'ManualSuppression' }).events[0]?.type).toBe('unsubscribe');
    expect(change({ SuppressSending: false })).toEqual({ events: [], ignored: 1 });
    expect(normalisePostmark({ RecordType: 'Open', MessageID: 'x' })).toEqual({
      events: [],
      ignored: 1,
    });
    expect(() => normalisePostmark([])).toThrow(PayloadError);
  });
});
