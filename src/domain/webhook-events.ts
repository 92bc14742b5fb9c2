// What every provider webhook is normalised into before it is stored (docs/contract.md §2 Event,
// §4.3). Parsers are pure: they turn a verified provider payload into these records and never
// decide anything about subscribers; the worker applies the stored events with the policy.
import { normalizeEmail } from './email.js';

export type WebhookSource = 'generic' | 'mailgun' | 'sendgrid' | 'ses' | 'postmark';

/** Only these event kinds come in through webhooks; opens and clicks are not recorded. */
export type WebhookEventType = 'bounce' | 'complaint' | 'unsubscribe' | 'delivered';

/** A campaign named by the sender (generic webhook only): by uuid or by numeric id. */
export type CampaignRef = { uuid: string } | { id: number };

export interface NormalisedEvent {
  type: WebhookEventType;
  /** null on a bounce means "recorded, never held against the recipient" (sender blame). */
  bounceType: 'hard' | 'soft' | null;
  /** Unique per source; the (source, id) pair is what makes a replay change nothing. */
  providerEventId: string;
  email: string | null;
  /** The Message-ID we generated, without angle brackets, when the provider reports it. */
  messageId: string | null;
  campaign: CampaignRef | null;
  reason: string | null;
  occurredAt: Date | null;
  /** The provider's own record of this one event, stored as is for audits. */
  payload: unknown;
}

export interface Normalised {
  events: NormalisedEvent[];
  /** Provider events that carry nothing Bulletin acts on (opens, deferrals, …). */
  ignored: number;
}

/** A payload that verified but does not have the provider's documented shape. */
export class PayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadError';
  }
}

const MAX_REASON = 1000;
const MAX_ID = 500;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Numbers and strings alike ("1.2", 1.2): providers are not consistent between events. */
export function num(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** An address as Bulletin stores it, or null when the provider's value is not one. */
export function address(value: unknown): string | null {
  const result = normalizeEmail(value);
  return result.ok ? result.email : null;
}

/** "<abc@host>", " abc@host " → "abc@host"; anything that cannot be a Message-ID → null. */
export function normaliseMessageId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const id = value.trim().replace(/^<+/, '').replace(/>+$/, '');
  // eslint-disable-next-line no-control-regex
  if (id === '' || id.length > 995 || /[\s<>\u0000-\u001f\u007f]/.test(id)) return null;
  return id;
}

export function reasonText(...parts: (string | undefined | null)[]): string | null {
  const text = parts
    .map((p) => (typeof p === 'string' ? oneLine(p) : ''))
    .filter((p) => p !== '')
    .join(' — ');
  return text === '' ? null : text.slice(0, MAX_REASON);
}

/**
 * A reason as it is stored and shown: one line. Multi-line SMTP replies ("550-5.1.1 …\r\n550
 * 5.1.1 …") are real, so line breaks and tabs fold into a space; other control characters
 * (NUL, escape sequences) come from nowhere honest and are dropped, so a reason can never
 * forge a log line, break a CSV cell or stop PostgreSQL storing the event.
 */
export function oneLine(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

export function eventId(...parts: (string | number | boolean | null | undefined)[]): string {
  return parts
    .map((p) => (p === null || p === undefined ? '' : String(p)))
    .join(':')
    .slice(0, MAX_ID);
}

/** ISO-8601 text or Unix seconds (possibly fractional) → Date; null when unreadable. */
export function eventTime(value: unknown): Date | null {
  let date: Date | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) date = new Date(value * 1000);
  else if (typeof value === 'string' && /^\d+(\.\d+)?$/.test(value))
    date = new Date(Number(value) * 1000);
  else if (typeof value === 'string' && value !== '') date = new Date(value);
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** Provider payloads nest five or six levels; a signed body nesting deeper is refused. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses JSON text, reporting a malformed body as a PayloadError. A body nested deeper than
 * MAX_JSON_DEPTH is refused before parsing: storing its payload would overflow the stack.
 */
export function parseJson(text: string): unknown {
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new PayloadError(`The body nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PayloadError('The body is not valid JSON');
  }
}

/** The deepest nesting of [ and { outside strings; a loop, so any depth is safe to measure. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character (a quote, too); a bare quote ends the string.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}
