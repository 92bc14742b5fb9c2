// One outgoing message and the headers of docs/contract.md §6. Every value that reaches a header
// passes through here: names and subjects lose CR/LF and control characters, addresses and
// URLs with anything that could end a header or add a recipient are refused outright.
import { headerText } from '../domain/text.js';
import { randomUUID } from 'node:crypto';
import type { SendMailOptions } from 'nodemailer';
import { encodeWord } from 'nodemailer/lib/mime-funcs';

export interface OutgoingMessage {
  from: { name?: string; address: string };
  to: { name?: string; address: string };
  replyTo?: string;
  subject: string;
  html: string;
  /**
   * The HTML part already quoted-printable (Personalizer.renderForMime): when set, the composer
   * uses it as it is and `html` may be empty. nodemailer's path (toMailOptions) ignores it.
   */
  htmlEncoded?: string;
  text: string;
  /** '<…@domain>' we generate (unique); recorded in the ledger. */
  messageId: string;
  /** Emits List-Unsubscribe: <https…>, <mailto:…>. */
  listUnsubscribe?: { url: string; mailto?: string };
  /** List-Unsubscribe-Post: List-Unsubscribe=One-Click (campaign mail only). */
  oneClick: boolean;
  /** List-Id value, e.g. '"Quarterly" <list-1.bulletin.example.org>'. */
  listId?: string;
  /** Precedence: bulk. */
  bulk: boolean;
  /** Feedback-ID. */
  feedbackId?: string;
  /** X-Bulletin-Campaign. */
  campaignUuid?: string;
  /** VERP envelope sender (bounce+token@BOUNCE_DOMAIN). */
  returnPath?: string;
}

/** A message that can never be sent as given (bad address, bad URL): do not retry it. */
export class InvalidMessageError extends Error {
  readonly code = 'EMESSAGE';
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
// eslint-disable-next-line no-control-regex
const ADDRESS = /^[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+@[^\s@<>()[\]\\,;:"\u0000-\u001f\u007f]+$/;

/**
 * Text that looks like an RFC 2047 encoded word ("=?utf-8?Q?…?=") would be decoded by mail
 * clients, and could decode into CR/LF. Such text is itself encoded, so readers see it literally.
 */
function literal(value: string): string {
  return value.includes('=?') ? encodeWord(value, 'Q', 0) : value;
}

export { headerText };

export function checkAddress(value: string, field: string): string {
  const address = value.trim();
  if (!ADDRESS.test(address) || address.length > 254) {
    throw new InvalidMessageError(`${field} is not a single plain address`);
  }
  return address;
}

function checkUrl(value: string, field: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidMessageError(`${field} is not a URL`);
  }
  // URL serialisation percent-encodes spaces, quotes and angle brackets; a comma would still
  // split the List-Unsubscribe list, so it is encoded too.
  const href = url.href.replace(/,/g, '%2C');
  if (!protocols.includes(url.protocol) || HAS_CONTROL.test(href) || /[\s<>]/.test(href)) {
    throw new InvalidMessageError(`${field} must be a ${protocols.join(' or ')} URL`);
  }
  return href;
}

const MESSAGE_ID = /^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>$/;

/** A fresh Message-ID: `<uuid@domain>`. */
export function newMessageId(domain: string): string {
  const host = domain.trim().toLowerCase();
  const safe = /^[a-z0-9.-]{1,253}$/.test(host) && !host.startsWith('.') ? host : 'localhost';
  return `<${randomUUID()}@${safe}>`;
}

function listUnsubscribeHeader(value: NonNullable<OutgoingMessage['listUnsubscribe']>): string {
  const parts = [`<${checkUrl(value.url, 'listUnsubscribe.url', ['https:', 'http:'])}>`];
  if (value.mailto) {
    const mailto = value.mailto.startsWith('mailto:') ? value.mailto : `mailto:${value.mailto}`;
    const address = checkAddress(mailto.slice('mailto:'.length).split('?')[0] ?? '', 'mailto');
    const query = mailto.includes('?') ? mailto.slice(mailto.indexOf('?')) : '?subject=unsubscribe';
    parts.push(`<${checkUrl(`mailto:${address}${query}`, 'listUnsubscribe.mailto', ['mailto:'])}>`);
  }
  return parts.join(', ');
}

const LIST_ID = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+$/;

/**
 * RFC 2919 List-Id: an optional phrase and `<id>`. Only the phrase may be encoded: nodemailer
 * would encode the whole value when the name is not ASCII, hiding the id from filters.
 */
export function listIdHeader(value: string): string {
  const clean = headerText(value);
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(clean);
  const id = match ? match[2]! : clean;
  if (!LIST_ID.test(id)) throw new InvalidMessageError('listId must end in <id.domain>');
  let phrase = (match?.[1] ?? '').trim();
  if (/^".*"$/.test(phrase)) phrase = phrase.slice(1, -1).replace(/\\(.)/g, '$1');
  if (phrase === '') return `<${id}>`;
  const shown = /^[\x20-\x7e]*$/.test(phrase)
    ? `"${phrase.replace(/["\\]/g, '\\$&')}"`
    : encodeWord(phrase, 'Q', 52);
  return `${shown} <${id}>`;
}

/** `"Quarterly" <list-7.bulletin.example.org>` for a list. */
export function formatListId(name: string, listId: number | string, domain: string): string {
  return `"${headerText(name).replace(/["\\]/g, '')}" <list-${listId}.${domain}>`;
}

/** One header field of a message; a prepared value goes out as it is: never encoded, never folded. */
export interface PreparedField {
  key: string;
  value: string;
  prepared: boolean;
}

/**
 * The checked, cleaned header values of one message, shared by toMailOptions (nodemailer
 * composes) and composeMessage (mime.ts composes): both send exactly these.
 */
export interface PreparedHeaders {
  from: { name: string; address: string };
  to: { name: string; address: string };
  replyTo?: string;
  /** The subject to encode as usual; undefined when `fields` carries a prepared Subject. */
  subject?: string;
  messageId: string;
  /** List-Unsubscribe, List-Unsubscribe-Post, List-Id, Precedence, Feedback-ID, … in this order. */
  fields: PreparedField[];
  envelope: { from: string; to: string[] };
}

/** Checks and cleans every header value of a message; throws InvalidMessageError on unusable ones. */
export function prepareHeaders(message: OutgoingMessage): PreparedHeaders {
  if (!MESSAGE_ID.test(message.messageId)) {
    throw new InvalidMessageError('messageId must look like <id@domain>');
  }
  const from = checkAddress(message.from.address, 'from');
  const to = checkAddress(message.to.address, 'to');
  const fields: PreparedField[] = [];
  if (message.listUnsubscribe) {
    // Prepared: nodemailer must not fold or encode the <…> list.
    fields.push({
      key: 'List-Unsubscribe',
      value: listUnsubscribeHeader(message.listUnsubscribe),
      prepared: true,
    });
    if (message.oneClick) {
      fields.push({
        key: 'List-Unsubscribe-Post',
        value: 'List-Unsubscribe=One-Click',
        prepared: false,
      });
    }
  }
  if (message.listId) {
    fields.push({ key: 'List-Id', value: listIdHeader(message.listId), prepared: true });
  }
  if (message.bulk) fields.push({ key: 'Precedence', value: 'bulk', prepared: false });
  if (message.feedbackId) {
    fields.push({ key: 'Feedback-ID', value: headerText(message.feedbackId), prepared: false });
  }
  if (message.campaignUuid) {
    fields.push({
      key: 'X-Bulletin-Campaign',
      value: headerText(message.campaignUuid),
      prepared: false,
    });
  }
  const literalSubject = message.subject.includes('=?');
  if (literalSubject) {
    fields.push({
      key: 'Subject',
      value: encodeWord(headerText(message.subject), 'Q', 52),
      prepared: true,
    });
  }
  const replyTo = message.replyTo ? checkAddress(message.replyTo, 'replyTo') : undefined;
  return {
    from: { name: literal(headerText(message.from.name ?? '')), address: from },
    to: { name: literal(headerText(message.to.name ?? '')), address: to },
    ...(replyTo ? { replyTo } : {}),
    ...(literalSubject ? {} : { subject: headerText(message.subject) }),
    messageId: message.messageId,
    fields,
    envelope: {
      from: message.returnPath ? checkAddress(message.returnPath, 'returnPath') : from,
      to: [to],
    },
  };
}

/** The nodemailer options for one message; throws InvalidMessageError on unusable values. */
export function toMailOptions(message: OutgoingMessage): SendMailOptions {
  const prepared = prepareHeaders(message);
  const headers: Record<string, string | { prepared: true; value: string }> = {};
  for (const field of prepared.fields) {
    headers[field.key] = field.prepared ? { prepared: true, value: field.value } : field.value;
  }
  return {
    from: prepared.from,
    to: prepared.to,
    ...(prepared.replyTo ? { replyTo: prepared.replyTo } : {}),
    ...(prepared.subject === undefined ? {} : { subject: prepared.subject }),
    html: message.html,
    text: message.text,
    messageId: prepared.messageId,
    headers,
    envelope: prepared.envelope,
    // Data never names files or URLs for nodemailer to fetch (the transport refuses too).
    attachments: [],
  };
}
