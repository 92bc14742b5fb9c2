// The generic webhook (docs/contract.md §4.3): any system can report bounces, complaints and
// unsubscribes with a Stripe-style signed request.
//   Bulletin-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(WEBHOOK_SECRET, t + "." + body)>
// Several v1 entries are allowed (a sender rotating its secret signs with both).
import { z } from 'zod';
import { normalizeEmail } from './email.js';
import { classifyBounce, bounceReason } from './webhook-bounce.js';
import {
  normaliseMessageId,
  reasonText,
  type Normalised,
  type NormalisedEvent,
} from './webhook-events.js';

export const GENERIC_TOLERANCE_SECONDS = 300;
export const GENERIC_MAX_EVENTS = 1000;

export interface GenericSignatureHeader {
  timestamp: number;
  signatures: string[];
}

/** Parses `t=…,v1=…[,v1=…]`; undefined when the header is missing or malformed. */
export function parseSignatureHeader(
  header: string | undefined,
): GenericSignatureHeader | undefined {
  if (!header || header.length > 2000) return undefined;
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== undefined) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (/^[0-9a-fA-F]{64}$/.test(value)) signatures.push(value.toLowerCase());
    }
    // Other schemes (v0, v2…) are ignored, as Stripe-style verifiers do.
  }
  if (timestamp === undefined || signatures.length === 0) return undefined;
  return { timestamp, signatures };
}

const text = (max: number) =>
  z
    .string()
    .max(max, { error: `must be at most ${max} characters` })
    // eslint-disable-next-line no-control-regex
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), {
      error: 'must not contain control characters',
    });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** campaignId: the campaign's uuid (preferred: stable across databases) or its numeric id. */
const campaignId = z.union(
  [
    z
      .string()
      .regex(UUID)
      .transform((uuid) => ({ uuid: uuid.toLowerCase() })),
    z
      .string()
      .regex(/^[1-9][0-9]{0,15}$/)
      .transform((id) => ({ id: Number(id) })),
    z
      .number()
      .int()
      .positive()
      .max(Number.MAX_SAFE_INTEGER)
      .transform((id) => ({ id })),
  ],
  { error: 'must be a campaign uuid or a positive whole number' },
);

const eventSchema = z
  .strictObject({
    id: text(200).min(1, { error: 'is required' }),
    type: z.enum(['bounce', 'complaint', 'unsubscribe'], {
      error: 'must be one of bounce, complaint, unsubscribe',
    }),
    email: z.string().transform((value, ctx) => {
      const result = normalizeEmail(value);
      if (result.ok) return result.email;
      ctx.addIssue({ code: 'custom', message: result.reason });
      return z.NEVER;
    }),
    bounceType: z.enum(['hard', 'soft'], { error: 'must be hard or soft' }).optional(),
    messageId: text(998)
      .refine((v) => normaliseMessageId(v) !== null, { error: 'is not a Message-ID' })
      .optional(),
    campaignId: campaignId.optional(),
    occurredAt: z.iso
      .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone' })
      .optional(),
    reason: text(1000).optional(),
  })
  .refine((e) => e.bounceType === undefined || e.type === 'bounce', {
    error: 'is only allowed on bounce events',
    path: ['bounceType'],
  });

export const genericBodySchema = z.strictObject({
  events: z
    .array(eventSchema)
    .min(1, { error: 'must hold at least one event' })
    .max(GENERIC_MAX_EVENTS, { error: `must hold at most ${GENERIC_MAX_EVENTS} events` }),
});

export type GenericBody = z.output<typeof genericBodySchema>;

/** `raw` is the parsed body before validation: each event's payload is stored as sent. */
export function normaliseGeneric(body: GenericBody, raw: unknown): Normalised {
  const rawEvents = (raw as { events?: unknown[] }).events ?? [];
  const events = body.events.map((e, i): NormalisedEvent => {
    let bounceType: NormalisedEvent['bounceType'] = null;
    let reason = e.reason === undefined ? null : reasonText(e.reason);
    if (e.type === 'bounce') {
      // The sender's bounceType is its verdict; a 5.7.x or blocklist reason still blames us,
      // and x.2.2 is still soft. Without a bounceType the reason decides (hard by default).
      const verdict = classifyBounce({
        permanent: e.bounceType === undefined ? undefined : e.bounceType === 'hard',
        diagnostic: e.reason,
      });
      bounceType = verdict.bounceType;
      reason = bounceReason(verdict, reason);
    }
    return {
      type: e.type,
      bounceType,
      providerEventId: e.id,
      email: e.email,
      messageId: normaliseMessageId(e.messageId),
      campaign: e.campaignId ?? null,
      reason,
      occurredAt: e.occurredAt ? new Date(e.occurredAt) : null,
      payload: rawEvents[i] ?? e,
    };
  });
  return { events, ignored: 0 };
}
