// Amazon SES notifications arrive as Amazon SNS messages (Content-Type text/plain, JSON body).
// Verifying one: the topic must be ours, the certificate URL must be an SNS host over https
// (checked before anything is fetched), the signature (v1 SHA1withRSA, v2 SHA256withRSA) must
// match the canonical string of the documented fields.
// https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html
// https://docs.aws.amazon.com/sns/latest/dg/http-subscription-confirmation-json.html
// https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
import { bounceReason, classifyBounce, type BounceVerdict } from './webhook-bounce.js';
import * as ev from './webhook-events.js';

/**
 * SNS retries an HTTP/S delivery for at most 3,600 seconds (a hard limit), always with the
 * message it first signed; later than that, a message is a replay. A little future skew is
 * allowed for clocks.
 */
export const SNS_MAX_AGE_SECONDS = 3600 + 300;
export const SNS_MAX_FUTURE_SECONDS = 300;

export type SnsType = 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

const TYPES: readonly string[] = [
  'Notification',
  'SubscriptionConfirmation',
  'UnsubscribeConfirmation',
];

/** The envelope fields, or a ev.PayloadError naming what is missing. Nothing is trusted yet. */
export function readSnsMessage(body: unknown): SnsMessage {
  if (!ev.isRecord(body))
    throw new ev.PayloadError('The body must be an SNS message (a JSON object)');
  const type = ev.str(body.Type);
  if (!type || !TYPES.includes(type)) throw new ev.PayloadError('Type is not an SNS message type');
  const required = ['MessageId', 'TopicArn', 'Message', 'Timestamp', 'Signature', 'SigningCertURL'];
  if (type !== 'Notification') required.push('SubscribeURL', 'Token');
  for (const field of required) {
    if (typeof body[field] !== 'string') throw new ev.PayloadError(`${field} is missing`);
  }
  const version = body.SignatureVersion;
  if (version !== '1' && version !== '2') {
    throw new ev.PayloadError('SignatureVersion must be "1" or "2"');
  }
  return body as unknown as SnsMessage;
}

/**
 * The string SNS signs: "Name\nValue\n" for each documented field, in this order. Subject
 * only when the notification has one.
 */
export function snsStringToSign(m: SnsMessage): string {
  const fields =
    m.Type === 'Notification'
      ? [
          'Message',
          'MessageId',
          ...(typeof m.Subject === 'string' ? ['Subject'] : []),
          'Timestamp',
          'TopicArn',
          'Type',
        ]
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const record = m as unknown as Record<string, string>;
  return fields.map((name) => `${name}\n${record[name]}\n`).join('');
}

/** v1 is SHA1withRSA, v2 SHA256withRSA (PKCS #1 v1.5 either way). */
export function snsSignatureAlgorithm(version: SnsMessage['SignatureVersion']): 'sha1' | 'sha256' {
  return version === '1' ? 'sha1' : 'sha256';
}

const SNS_HOST = /^sns\.[a-z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

/**
 * An SNS endpoint URL we may fetch: https, default port, no credentials, host
 * sns.<region>.amazonaws.com (or .com.cn). Anything else is refused before any request.
 */
export function isSnsUrl(value: string, kind: 'certificate' | 'subscribe'): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.username || url.password) return false;
  if (!SNS_HOST.test(url.hostname)) return false;
  return kind === 'certificate' ? url.pathname.endsWith('.pem') : true;
}

/** Whether the signed Timestamp is inside the window SNS could still be delivering in. */
export function snsTimestampFresh(timestamp: string, nowMs: number): boolean {
  const at = Date.parse(timestamp);
  if (Number.isNaN(at)) return false;
  return at <= nowMs + SNS_MAX_FUTURE_SECONDS * 1000 && at >= nowMs - SNS_MAX_AGE_SECONDS * 1000;
}

/** Normalises the SES notification carried in a verified SNS Notification's Message. */
export function normaliseSes(sns: SnsMessage): ev.Normalised {
  let message: unknown;
  try {
    message = ev.parseJson(sns.Message);
  } catch {
    // A plain-text message on our topic (or one nested past any SES notification): not from SES.
    return { events: [], ignored: 1 };
  }
  if (!ev.isRecord(message)) return { events: [], ignored: 1 };
  // Identity notifications say notificationType; configuration-set event publishing eventType.
  const kind = ev.str(message.notificationType) ?? ev.str(message.eventType);
  const mail = ev.isRecord(message.mail) ? message.mail : {};
  const messageId = originalMessageId(mail);
  switch (kind) {
    case 'Bounce':
      return bounce(sns, message, messageId);
    case 'Complaint':
      return complaint(sns, message, messageId);
    case 'Delivery':
      return delivery(sns, message, messageId);
    default:
      // Send, Reject, Open, Click, DeliveryDelay (SES keeps trying), RenderingFailure, …
      return { events: [], ignored: 1 };
  }
}

/** SES replaces the Message-ID header when it sends; the original is in the mail headers. */
function originalMessageId(mail: Record<string, unknown>): string | null {
  const common = ev.isRecord(mail.commonHeaders) ? mail.commonHeaders : {};
  const fromCommon = ev.normaliseMessageId(common.messageId);
  if (fromCommon) return fromCommon;
  if (!Array.isArray(mail.headers)) return null;
  for (const h of mail.headers as unknown[]) {
    if (ev.isRecord(h) && ev.str(h.name)?.toLowerCase() === 'message-id')
      return ev.normaliseMessageId(h.value);
  }
  return null;
}

const recipients = (list: unknown): Record<string, unknown>[] =>
  Array.isArray(list) ? list.filter(ev.isRecord) : [];

function bounce(
  sns: SnsMessage,
  message: Record<string, unknown>,
  messageId: string | null,
): ev.Normalised {
  const b = ev.isRecord(message.bounce) ? message.bounce : {};
  const bounceType = ev.str(b.bounceType);
  const subType = ev.str(b.bounceSubType);
  const feedbackId = ev.str(b.feedbackId) ?? sns.MessageId;
  const occurredAt = ev.eventTime(b.timestamp);
  const events = recipients(b.bouncedRecipients).map((r): ev.NormalisedEvent => {
    const email = ev.str(r.emailAddress);
    const text = ev.reasonText(
      ev.str(r.diagnosticCode),
      subType && `${bounceType ?? ''}/${subType}`,
    );
    let verdict: BounceVerdict;
    if (
      subType === 'ContentRejected' ||
      subType === 'AttachmentRejected' ||
      subType === 'MessageTooLarge'
    ) {
      // Our message was refused, not the mailbox.
      verdict = { bounceType: null, senderBlame: true, status: undefined };
    } else {
      verdict = classifyBounce({
        // Undetermined: SES could not tell; counted as soft, never as hard.
        permanent: bounceType === 'Permanent',
        status: ev.str(r.status),
        diagnostic: ev.str(r.diagnosticCode),
      });
    }
    return {
      type: 'bounce',
      bounceType: verdict.bounceType,
      providerEventId: ev.eventId('bounce', feedbackId, email?.toLowerCase()),
      email: ev.address(email),
      messageId,
      campaign: null,
      reason: bounceReason(verdict, text),
      occurredAt,
      payload: { snsMessageId: sns.MessageId, topicArn: sns.TopicArn, notification: message },
    };
  });
  if (events.length === 0) throw new ev.PayloadError('bounce.bouncedRecipients is empty');
  return { events, ignored: 0 };
}

function complaint(
  sns: SnsMessage,
  message: Record<string, unknown>,
  messageId: string | null,
): ev.Normalised {
  const c = ev.isRecord(message.complaint) ? message.complaint : {};
  // "not-spam": the recipient's provider reports the message was *not* spam.
  if (ev.str(c.complaintFeedbackType) === 'not-spam') return { events: [], ignored: 1 };
  const feedbackId = ev.str(c.feedbackId) ?? sns.MessageId;
  const events = recipients(c.complainedRecipients).map((r): ev.NormalisedEvent => {
    const email = ev.str(r.emailAddress);
    return {
      type: 'complaint',
      bounceType: null,
      providerEventId: ev.eventId('complaint', feedbackId, email?.toLowerCase()),
      email: ev.address(email),
      messageId,
      campaign: null,
      reason: ev.reasonText(ev.str(c.complaintFeedbackType), ev.str(c.complaintSubType)),
      occurredAt: ev.eventTime(c.timestamp),
      payload: { snsMessageId: sns.MessageId, topicArn: sns.TopicArn, notification: message },
    };
  });
  if (events.length === 0) throw new ev.PayloadError('complaint.complainedRecipients is empty');
  return { events, ignored: 0 };
}

function delivery(
  sns: SnsMessage,
  message: Record<string, unknown>,
  messageId: string | null,
): ev.Normalised {
  const d = ev.isRecord(message.delivery) ? message.delivery : {};
  const mail = ev.isRecord(message.mail) ? message.mail : {};
  const sesId = ev.str(mail.messageId) ?? sns.MessageId;
  const list = Array.isArray(d.recipients) ? (d.recipients as unknown[]) : [];
  const events = list
    .filter((r): r is string => typeof r === 'string')
    .map((email): ev.NormalisedEvent => ({
      type: 'delivered',
      bounceType: null,
      providerEventId: ev.eventId('delivery', sesId, email.toLowerCase()),
      email: ev.address(email),
      messageId,
      campaign: null,
      reason: ev.reasonText(ev.str(d.smtpResponse)),
      occurredAt: ev.eventTime(d.timestamp),
      payload: { snsMessageId: sns.MessageId, topicArn: sns.TopicArn, notification: message },
    }));
  return { events, ignored: events.length === 0 ? 1 : 0 };
}
