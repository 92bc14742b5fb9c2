// SendGrid Event Webhook: a JSON array of events, signed with ECDSA (P-256, SHA-256) over
// timestamp + raw body; the signature (base64 DER) and timestamp arrive in headers.
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
// https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event
import { bounceReason, classifyBounce } from './webhook-bounce.js';
import * as ev from './webhook-events.js';

/** SendGrid documents no window; five minutes is what other verifiers use. */
export const SENDGRID_TOLERANCE_SECONDS = 300;
export const SENDGRID_MAX_EVENTS = 10_000;

export function normaliseSendgrid(body: unknown): ev.Normalised {
  if (!Array.isArray(body)) throw new ev.PayloadError('The body must be a JSON array of events');
  if (body.length > SENDGRID_MAX_EVENTS)
    throw new ev.PayloadError(`At most ${SENDGRID_MAX_EVENTS} events per request`);
  const events: ev.NormalisedEvent[] = [];
  let ignored = 0;
  for (const raw of body) {
    const event = ev.isRecord(raw) ? one(raw) : undefined;
    if (event) events.push(event);
    else ignored++;
  }
  return { events, ignored };
}

function one(e: Record<string, unknown>): ev.NormalisedEvent | undefined {
  const kind = ev.str(e.event);
  const sgEventId = ev.str(e.sg_event_id);
  // Without SendGrid's event id there is nothing to deduplicate on: such an event is not one
  // SendGrid sent (every documented event carries it).
  if (!kind || !sgEventId) return undefined;
  const base = {
    providerEventId: ev.eventId(sgEventId),
    email: ev.address(e.email),
    // smtp-id is the Message-ID header of the message; sg_message_id is SendGrid's own id.
    messageId: ev.normaliseMessageId(e['smtp-id']),
    campaign: null,
    occurredAt: ev.eventTime(e.timestamp),
    payload: e,
  };
  const text = ev.reasonText(ev.str(e.reason), ev.str(e.response));
  switch (kind) {
    case 'bounce': {
      if (ev.str(e.type) === 'blocked') {
        // "Blocked": the receiver refused the message for reasons of content or reputation;
        // SendGrid itself does not suppress the address for it.
        const verdict = { bounceType: null, senderBlame: true, status: undefined };
        return { ...base, type: 'bounce', bounceType: null, reason: bounceReason(verdict, text) };
      }
      const verdict = classifyBounce({ status: ev.str(e.status), diagnostic: text });
      return {
        ...base,
        type: 'bounce',
        bounceType: verdict.bounceType,
        reason: bounceReason(verdict, text),
      };
    }
    case 'dropped':
      return dropped(base, ev.str(e.reason), text);
    case 'spamreport':
      return { ...base, type: 'complaint', bounceType: null, reason: null };
    case 'unsubscribe':
    case 'group_unsubscribe':
      return { ...base, type: 'unsubscribe', bounceType: null, reason: null };
    case 'delivered':
      return { ...base, type: 'delivered', bounceType: null, reason: null };
    default:
      // processed, deferred (SendGrid retries; a final failure arrives as a bounce), open,
      // click, group_resubscribe (consent comes back only through Bulletin's own pages), …
      return undefined;
  }
}

/** SendGrid did not send because of one of its suppression lists: mirror what it knows. */
function dropped(
  base: Omit<ev.NormalisedEvent, 'type' | 'bounceType' | 'reason'>,
  reason: string | undefined,
  text: string | null,
): ev.NormalisedEvent | undefined {
  switch (reason) {
    case 'Bounced Address':
    case 'Invalid':
      return { ...base, type: 'bounce', bounceType: 'hard', reason: text };
    case 'Spam Reporting Address':
      return { ...base, type: 'complaint', bounceType: null, reason: text };
    case 'Unsubscribed Address':
      return { ...base, type: 'unsubscribe', bounceType: null, reason: text };
    default:
      // Invalid SMTPAPI header, Spam Content, Expired, …: the message's fault, not the address's.
      return undefined;
  }
}
