// Postmark webhooks: one JSON record per request, authenticated with HTTP basic auth (the
// credentials are part of the webhook URL configured in Postmark). Postmark does not sign
// the body.
// https://postmarkapp.com/developer/webhooks/bounce-webhook
// https://postmarkapp.com/developer/webhooks/spam-complaint-webhook
// https://postmarkapp.com/developer/webhooks/subscription-change-webhook
// https://postmarkapp.com/developer/api/bounce-api#bounce-types
import { bounceReason, classifyBounce, type BounceVerdict } from './webhook-bounce.js';
import * as ev from './webhook-events.js';

/** user and password from an `Authorization: Basic …` header; undefined when absent. */
export function parseBasicAuth(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const match = header ? /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header.trim()) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * Bounce IDs are 64-bit integers (Postmark's own example is 4323372036854775807): JSON.parse
 * would round them to the nearest double, and two bounces could share a dedupe key. The raw
 * digits of every "ID" member are kept as a string before parsing.
 */
export function quoteLargeIds(json: string): string {
  return json.replace(/("ID"\s*:\s*)(-?\d+)(?=\s*[,}])/g, '$1"$2"');
}

type Mapped = Pick<ev.NormalisedEvent, 'type' | 'bounceType' | 'reason'>;

const SENDER_BLAME = { bounceType: null, senderBlame: true, status: undefined } as const;

/** Postmark bounce Type → what it means for the recipient. */
function bounceMapping(type: string | undefined, details: string | null): Mapped | undefined {
  const bounce = (verdict: BounceVerdict): Mapped => ({
    type: 'bounce',
    bounceType: verdict.bounceType,
    reason: bounceReason(verdict, details),
  });
  switch (type) {
    case 'HardBounce':
    case 'BadEmailAddress':
      return bounce(classifyBounce({ permanent: true, diagnostic: details }));
    case 'SoftBounce':
    case 'Transient':
    case 'DnsError':
      return bounce(classifyBounce({ permanent: false, diagnostic: details }));
    case 'Blocked':
    case 'DMARCPolicy':
    case 'SpamNotification':
    case 'VirusNotification':
      // The receiver refused the message or the sender, not the mailbox.
      return bounce({ ...SENDER_BLAME });
    case 'SpamComplaint':
      return { type: 'complaint', bounceType: null, reason: details };
    case 'Unsubscribe':
      return { type: 'unsubscribe', bounceType: null, reason: details };
    default:
      // AutoResponder, AddressChange, Subscribe, ChallengeVerification, OpenRelayTest, Unknown,
      // ManuallyDeactivated, Unconfirmed, SMTPApiError, InboundError, TemplateRenderingFailed.
      return undefined;
  }
}

type PostmarkRecord = Record<string, unknown>;

export function normalisePostmark(body: unknown): ev.Normalised {
  if (!ev.isRecord(body)) throw new ev.PayloadError('The body must be a Postmark webhook record');
  const recordType = ev.str(body.RecordType);
  const messageId = ev.normaliseMessageId(body.MessageID);
  switch (recordType) {
    case 'Bounce':
    case 'SpamComplaint':
      return bounceRecord(body, recordType, messageId);
    case 'SubscriptionChange':
      return subscriptionChange(body, messageId);
    case 'Delivery':
      return delivery(body, messageId);
    default:
      // Open, Click, and record types added later.
      return { events: [], ignored: 1 };
  }
}

function bounceRecord(
  body: PostmarkRecord,
  recordType: 'Bounce' | 'SpamComplaint',
  messageId: string | null,
): ev.Normalised {
  const id = typeof body.ID === 'number' ? String(body.ID) : ev.str(body.ID);
  if (!id) throw new ev.PayloadError('ID is missing');
  const details = ev.reasonText(ev.str(body.Details), ev.str(body.Description));
  // A spam complaint record carries Type "SpamComplaint"; trust RecordType if it does not.
  const mapped = bounceMapping(
    recordType === 'SpamComplaint' ? 'SpamComplaint' : ev.str(body.Type),
    details,
  );
  if (!mapped) return { events: [], ignored: 1 };
  return {
    events: [
      {
        ...mapped,
        providerEventId: ev.eventId(recordType, id),
        email: ev.address(body.Email),
        messageId,
        campaign: null,
        occurredAt: ev.eventTime(body.BouncedAt),
        payload: body,
      },
    ],
    ignored: 0,
  };
}

function suppressionMapping(
  reason: string | undefined,
  origin: string | undefined,
): Mapped | undefined {
  if (reason === 'HardBounce') {
    return { type: 'bounce', bounceType: 'hard', reason: 'Postmark suppression: HardBounce' };
  }
  if (reason === 'SpamComplaint') {
    return { type: 'complaint', bounceType: null, reason: 'Postmark suppression: SpamComplaint' };
  }
  if (reason === 'ManualSuppression') {
    return {
      type: 'unsubscribe',
      bounceType: null,
      reason: `Postmark suppression: ManualSuppression by ${origin ?? 'unknown'}`,
    };
  }
  return undefined;
}

function subscriptionChange(body: PostmarkRecord, messageId: string | null): ev.Normalised {
  // Only suppressions: a reactivation never makes a subscriber deliverable again here.
  if (body.SuppressSending !== true) return { events: [], ignored: 1 };
  const recipient = ev.str(body.Recipient);
  const mapped = suppressionMapping(ev.str(body.SuppressionReason), ev.str(body.Origin));
  if (!mapped || !recipient) return { events: [], ignored: 1 };
  return {
    events: [
      {
        ...mapped,
        providerEventId: ev.eventId(
          'SubscriptionChange',
          recipient.toLowerCase(),
          ev.str(body.ChangedAt),
          ev.str(body.MessageStream),
        ),
        email: ev.address(recipient),
        messageId,
        campaign: null,
        occurredAt: ev.eventTime(body.ChangedAt),
        payload: body,
      },
    ],
    ignored: 0,
  };
}

function delivery(body: PostmarkRecord, messageId: string | null): ev.Normalised {
  const recipient = ev.str(body.Recipient);
  if (!recipient || !messageId) return { events: [], ignored: 1 };
  return {
    events: [
      {
        type: 'delivered',
        bounceType: null,
        providerEventId: ev.eventId('Delivery', messageId, recipient.toLowerCase()),
        email: ev.address(recipient),
        messageId,
        campaign: null,
        reason: ev.reasonText(ev.str(body.Details)),
        occurredAt: ev.eventTime(body.DeliveredAt),
        payload: body,
      },
    ],
    ignored: 0,
  };
}
