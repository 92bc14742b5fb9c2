// Builds the bytes of one outgoing message (RFC 5322 + MIME) directly, for nodemailer to send
// as `raw`: its per-message composition (a MimeNode tree, streams, regex-based encoders) costs
// about three times the SMTP send itself. The header values are the ones toMailOptions hands
// nodemailer (prepareHeaders in message.ts), encoded the way nodemailer encodes them
// (mime-node's address and unstructured-text rules, mime-funcs' encoded words and folding),
// so the two paths produce the same message; a differential test holds them together.
import { randomUUID } from 'node:crypto';
import { encodeWord, encodeWords, foldLines, quoteString } from 'nodemailer/lib/mime-funcs';
import { normalizeDomain } from 'nodemailer/lib/shared';
import { InvalidMessageError, prepareHeaders, type OutgoingMessage } from './message.js';
import { encodeQuotedPrintableInto, maxEncodedLength } from './qp.js';

export interface ComposedMessage {
  /** The whole message, CRLF line endings, 7-bit unless an address needs SMTPUTF8. */
  raw: Buffer;
  /** The SMTP envelope: MAIL FROM (the VERP return path when set) and RCPT TO. */
  envelope: { from: string; to: string[] };
}

export interface ComposeOptions {
  /** The Date header (now by default). */
  date?: Date;
  /** The multipart boundary (random by default). */
  boundary?: string;
}

/** RFC 5322 §2.1.1: no line may be longer than 998 octets. */
const MAX_LINE = 998;

// mime-node's rules for addresses (nodemailer/lib/mime-node): a local part that is not a
// dot-atom is quoted; an address with a special anywhere is put in angle brackets.
const ATEXT = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~\\x80-\\uFFFF]";
const DOT_ATOM = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`);
const PLAIN_ADDRESS = /^[^\s"(),:;<>@[\\\]]+@[^\s"(),:;<>@[\\\]]+$/;
// eslint-disable-next-line no-control-regex
const UNSTRUCTURED_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
// RFC 2046 §5.1.1 bchars, not ending in a space.
const BOUNDARY = /^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$/;

/** mime-node's choice between Q and B encoded words: Q when most characters are Latin letters. */
function textEncoding(value: string): 'Q' | 'B' {
  let other = 0;
  let latin = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x08 || c === 0x0b || c === 0x0c || (c >= 0x0e && c <= 0x1f) || c >= 0x80) other++;
    else if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) latin++;
  }
  return other < latin ? 'Q' : 'B';
}

/** An unstructured value (Subject, Feedback-ID, …): encoded whole when any of it needs it. */
function unstructured(value: string): string {
  return UNSTRUCTURED_CONTROL.test(value)
    ? encodeWord(value, textEncoding(value), 52)
    : encodeWords(value, textEncoding(value), 52, true);
}

/** The address as mime-node writes it: domain in IDNA form, odd local parts quoted. */
function normalizeAddress(address: string): string {
  // checkAddress has made sure there is exactly one "@" and no specials.
  const at = address.lastIndexOf('@');
  const user = address.slice(0, at);
  let domain = address.slice(at + 1);
  try {
    domain = normalizeDomain(domain, /[\x80-\uFFFF]/.test(user));
  } catch {
    // kept as given, as nodemailer does
  }
  return `${DOT_ATOM.test(user) ? user : quoteString(user)}@${domain}`;
}

/**
 * `name <address>`. A name with RFC 5322 specials is a quoted-string (`"Doe, Jane"`), a name
 * with anything beyond printable ASCII an encoded word; `asWord` forces the encoded word,
 * which can be folded however long the name is.
 */
function mailbox(name: string, address: string, asWord = false): string {
  const addr = normalizeAddress(address);
  if (!name) return PLAIN_ADDRESS.test(addr) ? addr : `<${addr}>`;
  let shown = name;
  if (asWord || !/^[\w ]*$/.test(name)) {
    shown =
      !asWord && /^[\x20-\x7e]*$/.test(name)
        ? quoteString(name)
        : encodeWord(name, textEncoding(name), 52);
  }
  return `${shown} <${addr}>`;
}

function fits(line: string): boolean {
  if (line.length <= MAX_LINE / 3) return true;
  for (const part of line.split('\r\n')) {
    if (part.length > MAX_LINE || Buffer.byteLength(part) > MAX_LINE) return false;
  }
  return true;
}

/**
 * One header field, folded at whitespace to lines of 76 characters where it can be. A value
 * that would still leave a line over 998 octets is tried once more as `fallback` (encoded
 * words, which fold anywhere), and refused after that: no server would take the line.
 */
function field(key: string, value: string, fallback?: () => string): string {
  let line = foldLines(`${key}: ${value}`, 76);
  if (!fits(line) && fallback) line = foldLines(`${key}: ${fallback()}`, 76);
  if (!fits(line)) throw new InvalidMessageError(`${key} is too long for a header line`);
  return `${line}\r\n`;
}

/** A field nodemailer would send unfolded (`prepared`): kept on one line while it fits. */
function preparedField(key: string, value: string): string {
  const line = `${key}: ${value}`;
  return fits(line) ? `${line}\r\n` : field(key, value);
}

function formatDate(date: Date): string {
  return date.toUTCString().replace(/GMT/, '+0000');
}

/** "=_" never occurs in quoted-printable output, so the boundary cannot occur in a part. */
function newBoundary(): string {
  return `=_bulletin_${randomUUID()}`;
}

interface HeaderBlock {
  /** Every field but Content-Type, each ending in CRLF. */
  head: string;
  envelope: ComposedMessage['envelope'];
}

function headerBlock(message: OutgoingMessage, date: Date): HeaderBlock {
  const prepared = prepareHeaders(message);
  const { from, to, subject } = prepared;
  let head = `Date: ${formatDate(date)}\r\n`;
  head += field('From', mailbox(from.name, from.address), () =>
    mailbox(from.name, from.address, true),
  );
  head += field('To', mailbox(to.name, to.address), () => mailbox(to.name, to.address, true));
  if (prepared.replyTo) head += field('Reply-To', mailbox('', prepared.replyTo));
  // A subject that looks like an encoded word comes prepared (encoded itself); either way
  // the result is encoded words and plain text, folded between words.
  const literalSubject = prepared.fields.find((f) => f.key === 'Subject');
  if (literalSubject) {
    head += field('Subject', literalSubject.value);
  } else if (subject) {
    head += field('Subject', unstructured(subject), () =>
      encodeWord(subject, textEncoding(subject), 52),
    );
  }
  head += field('Message-ID', prepared.messageId);
  head += 'MIME-Version: 1.0\r\n';
  for (const { key, value, prepared: asIs } of prepared.fields) {
    if (key === 'Subject' || !value.trim()) continue; // nodemailer drops empty fields too
    head += asIs ? preparedField(key, value) : field(key, unstructured(value));
  }
  return { head, envelope: prepared.envelope };
}

// Scratch space reused for every message (composition is synchronous): the UTF-8 bytes of a
// part, and the message being built. The result is copied out at its exact size.
let source = Buffer.allocUnsafeSlow(64 * 1024);
let target = Buffer.allocUnsafeSlow(256 * 1024);

const TEXT_PART = 'Content-Type: text/plain; charset=utf-8\r\n';
const HTML_PART = 'Content-Type: text/html; charset=utf-8\r\n';
const QP = 'Content-Transfer-Encoding: quoted-printable\r\n\r\n';

/** Makes room for `more` bytes after `pos` in `target`, keeping what is there. */
function reserve(pos: number, more: number): void {
  if (target.length >= pos + more) return;
  const grown = Buffer.allocUnsafeSlow(Math.max(2 * target.length, pos + more));
  target.copy(grown, 0, 0, pos);
  target = grown;
}

/** Appends `text` quoted-printable to `target` at `pos`; returns the new end. */
function appendEncoded(text: string, pos: number): number {
  if (source.length < text.length * 3) source = Buffer.allocUnsafeSlow(text.length * 3);
  const length = source.write(text, 0, 'utf8');
  reserve(pos, maxEncodedLength(length) + 512);
  return encodeQuotedPrintableInto(source.subarray(0, length), target, pos);
}

/** Appends already quoted-printable text (ASCII by construction) to `target` at `pos`. */
function appendRaw(encoded: string, pos: number): number {
  reserve(pos, encoded.length + 512);
  return pos + target.write(encoded, pos, 'latin1');
}

/**
 * The complete message for `message` and its envelope: the header fields of docs/contract.md §6
 * (the same values and rules as toMailOptions) and a multipart/alternative body with the text
 * part first, both quoted-printable. Throws InvalidMessageError where toMailOptions would, and
 * when a header value cannot fit the 998-octet line limit.
 */
export function composeMessage(
  message: OutgoingMessage,
  options: ComposeOptions = {},
): ComposedMessage {
  const boundary = options.boundary ?? newBoundary();
  if (!BOUNDARY.test(boundary)) throw new RangeError('boundary is not a valid MIME boundary');
  const { head, envelope } = headerBlock(message, options.date ?? new Date());

  // Like nodemailer, an empty text or HTML leaves its part out.
  // [part header, content, already quoted-printable?]
  const parts: [string, string, boolean][] = [];
  if (message.text) parts.push([TEXT_PART, message.text, false]);
  if (message.htmlEncoded) parts.push([HTML_PART, message.htmlEncoded, true]);
  else if (message.html) parts.push([HTML_PART, message.html, false]);
  if (parts.length === 0) parts.push([TEXT_PART, '', false]);

  // Room for the header block and the boundaries; appendEncoded makes room for each part.
  reserve(0, Buffer.byteLength(head) + 512 + 3 * boundary.length);
  let pos = target.write(head, 0, 'utf8');
  if (parts.length === 1) {
    const [type, content, encoded] = parts[0]!;
    pos += target.write(type + QP, pos, 'latin1');
    pos = encoded ? appendRaw(content, pos) : appendEncoded(content, pos);
    // The body ends the message: a line break only where the content has none.
    if (target[pos - 1] !== 0x0a) pos += target.write('\r\n', pos, 'latin1');
  } else {
    pos += target.write(
      `Content-Type: multipart/alternative;\r\n boundary="${boundary}"\r\n\r\n`,
      pos,
      'latin1',
    );
    for (const [type, content, encoded] of parts) {
      pos += target.write(`--${boundary}\r\n${type}${QP}`, pos, 'latin1');
      pos = encoded ? appendRaw(content, pos) : appendEncoded(content, pos);
      pos += target.write('\r\n', pos, 'latin1');
    }
    pos += target.write(`--${boundary}--\r\n`, pos, 'latin1');
  }
  const raw = Buffer.allocUnsafe(pos);
  target.copy(raw, 0, 0, pos);
  return { raw, envelope };
}
