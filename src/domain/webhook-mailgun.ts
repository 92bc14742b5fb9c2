// Mailgun webhooks (JSON, one event per request):
//   { "signature": { "timestamp", "token", "signature" }, "event-data": { … } }
// signature = hex HMAC-SHA256(signing key, timestamp + token). The signature covers the
// timestamp and the token only, not event-data: the token is what makes a captured request
// useless a second time, so each token is accepted once.
// https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks
// https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads
import { bounceReason, classifyBounce } from './webhook-bounce.js';
import * as ev from './webhook-events.js';

/**
 * Mailgun retries a failed delivery for 8 hours with the signature block it first sent, and
 * its documentation warns against aggressive timestamp checks. The window covers the retry
 * schedule; replays inside it are stopped by the token (and the event id) instead.
 */
export const MAILGUN_TOLERANCE_SECONDS = 9 * 3600;

export interface MailgunSignature {
  timestamp: string;
  token: string;
  signature: string;
  /** Present on subaccount events: the same HMAC under the parent account's key. */
  parentSignature: string | undefined;
}

export function readMailgunSignature(body: unknown): MailgunSignature | undefined {
  const block = ev.isRecord(body) ? body.signature : undefined;
  if (!ev.isRecord(block)) return undefined;
  const timestamp =
    typeof block.timestamp === 'number' ? String(block.timestamp) : ev.str(block.timestamp);
  const token = ev.str(block.token);
  const signature = ev.str(block.signature);
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !token || token.length > 200 || !signature)
    return undefined;
  return { timestamp, token, signature, parentSignature: ev.str(block['parent-signature']) };
}

export function normaliseMailgun(body: unknown): ev.Normalised {
  const data = ev.isRecord(body) ? body['event-data'] : undefined;
  if (!ev.isRecord(data)) throw new ev.PayloadError('event-data is missing');
  const kind = ev.str(data.event);
  if (!kind) throw new ev.PayloadError('event-data.event is missing');
  const id = ev.str(data.id);
  const timestamp = ev.num(data.timestamp);
  const recipient = ev.str(data.recipient);
  const message = ev.isRecord(data.message) ? data.message : {};
  const headers = ev.isRecord(message.headers) ? message.headers : {};
  const messageId = ev.normaliseMessageId(headers['message-id']);
  const base = {
    email: ev.address(recipient),
    messageId,
    campaign: null,
    occurredAt: ev.eventTime(timestamp),
    payload: data,
  };
  // event-data.id is only unique within a day; with the event's timestamp it is unique.
  const providerEventId = ev.eventId(kind, id ?? messageId, timestamp, recipient);
  const one = (e: Omit<ev.NormalisedEvent, keyof typeof base>): ev.Normalised => ({
    events: [{ ...base, ...e }],
    ignored: 0,
  });

  switch (kind) {
    case 'complained':
      return one({ type: 'complaint', bounceType: null, providerEventId, reason: null });
    case 'unsubscribed':
      return one({ type: 'unsubscribe', bounceType: null, providerEventId, reason: null });
    case 'delivered':
      return one({ type: 'delivered', bounceType: null, providerEventId, reason: null });
    case 'failed':
      return one(failed(data, providerEventId, messageId, recipient));
    default:
      // accepted, rejected (our API call was refused), opened, clicked, stored, …
      return { events: [], ignored: 1 };
  }
}

function failed(
  data: Record<string, unknown>,
  providerEventId: string,
  messageId: string | null,
  recipient: string | undefined,
): Omit<ev.NormalisedEvent, 'email' | 'messageId' | 'campaign' | 'occurredAt' | 'payload'> {
  const severity = ev.str(data.severity);
  const reasonCode = ev.str(data.reason);
  const status = ev.isRecord(data['delivery-status']) ? data['delivery-status'] : {};
  const text = ev.reasonText(ev.str(status.message), ev.str(status.description));
  // Mailgun's own suppression lists: it did not even try, because of an earlier event.
  if (reasonCode === 'suppress-complaint')
    return { type: 'complaint', bounceType: null, providerEventId, reason: text };
  if (reasonCode === 'suppress-unsubscribe')
    return { type: 'unsubscribe', bounceType: null, providerEventId, reason: text };
  if (reasonCode === 'suppress-bounce')
    return { type: 'bounce', bounceType: 'hard', providerEventId, reason: text };
  if (reasonCode === 'espblock' || reasonCode === 'greylisted') {
    // The receiving provider refused us, or asked us to come back later: not the mailbox.
    const verdict = { bounceType: null, senderBlame: true, status: undefined };
    return {
      type: 'bounce',
      bounceType: null,
      providerEventId,
      reason: bounceReason(verdict, text),
    };
  }
  const temporary = severity === 'temporary';
  const verdict = classifyBounce({
    // "old": Mailgun gave up after temporary failures; the mailbox was never refused outright.
    permanent:
      temporary || reasonCode === 'old' ? false : severity === 'permanent' ? true : undefined,
    status: ev.str(status['enhanced-code']),
    smtpCode: ev.num(status.code),
    diagnostic: text,
  });
  return {
    type: 'bounce',
    bounceType: verdict.bounceType,
    // Mailgun reports every retry of a temporarily failing message: they are one soft bounce
    // per message and recipient, or a single slow mailbox would reach the limit in a day.
    providerEventId:
      temporary && messageId ? ev.eventId('temporary', messageId, recipient) : providerEventId,
    reason: bounceReason(verdict, text),
  };
}
