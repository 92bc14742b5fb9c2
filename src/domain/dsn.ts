// Parsers for the machine-readable part of mail reports, no I/O:
// - RFC 3464 `message/delivery-status` (a DSN): one per-message block, then one block per
//   recipient (`Final-Recipient`, `Action`, `Status`, `Diagnostic-Code`, …);
// - RFC 5965 `message/feedback-report` (ARF): one block (`Feedback-Type`, `Original-Rcpt-To`, …).
// Both are header-style fields in blocks separated by blank lines, with folded continuation
// lines. Field names are case-insensitive; a repeated field keeps its first value.
import { classifyBounce, type BounceVerdict } from './webhook-bounce.js';

export type FieldBlock = Map<string, string>;

/** Splits header-style text into blocks of fields (lowercase name → unfolded value). */
export function parseFieldBlocks(text: string): FieldBlock[] {
  const blocks: FieldBlock[] = [];
  let block: FieldBlock | undefined;
  let last: string | undefined;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (block && block.size > 0) blocks.push(block);
      block = undefined;
      last = undefined;
      continue;
    }
    if (/^[ \t]/.test(line)) {
      // A continuation of the previous field; stray indented text before any field is dropped.
      if (block && last !== undefined) block.set(last, `${block.get(last)} ${line.trim()}`.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    block ??= new Map();
    if (block.has(name)) {
      last = undefined;
      continue;
    }
    block.set(name, line.slice(colon + 1).trim());
    last = name;
  }
  if (block && block.size > 0) blocks.push(block);
  return blocks;
}

/**
 * The address of an address-type field: "rfc822; <User@Example.com>" → "user@example.com".
 * Other address types (x400, utf-8 of RFC 6533 is accepted) give their text as is, lowercased.
 */
export function fieldAddress(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  const address = (semi >= 0 ? value.slice(semi + 1) : value)
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .trim()
    .toLowerCase();
  return address === '' ? undefined : address;
}

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded' | 'unknown';

export interface DsnRecipient {
  finalRecipient: string | undefined;
  originalRecipient: string | undefined;
  action: DsnAction;
  /** The enhanced status code ("5.1.1"), when the block has a well-formed one. */
  status: string | undefined;
  /** The remote server's reply, without the "smtp;" type. */
  diagnosticCode: string | undefined;
  remoteMta: string | undefined;
}

export interface DeliveryStatus {
  reportingMta: string | undefined;
  originalEnvelopeId: string | undefined;
  recipients: DsnRecipient[];
}

const ACTIONS = new Set<DsnAction>(['failed', 'delayed', 'delivered', 'relayed', 'expanded']);
const STATUS = /^([245])\.(\d{1,3})\.(\d{1,3})\b/;

function typedText(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  const text = (
    semi >= 0 && /^[\w-]+$/.test(value.slice(0, semi).trim()) ? value.slice(semi + 1) : value
  ).trim();
  return text === '' ? undefined : text;
}

/** Parses the text of a message/delivery-status part (RFC 3464 §2). */
export function parseDeliveryStatus(text: string): DeliveryStatus {
  const blocks = parseFieldBlocks(text);
  // The per-message block comes first; tolerate reports that omit it (every block then
  // describes a recipient).
  const first = blocks[0];
  const hasMessageBlock =
    first !== undefined && !first.has('final-recipient') && !first.has('action');
  const message = hasMessageBlock ? first : new Map<string, string>();
  const recipients = (hasMessageBlock ? blocks.slice(1) : blocks)
    .filter((b) => b.has('final-recipient') || b.has('action') || b.has('original-recipient'))
    .map((b): DsnRecipient => {
      const action = (b.get('action') ?? '').trim().toLowerCase().split(/[\s(]/)[0] as DsnAction;
      const status = STATUS.exec((b.get('status') ?? '').trim());
      return {
        finalRecipient: fieldAddress(b.get('final-recipient')),
        originalRecipient: fieldAddress(b.get('original-recipient')),
        action: ACTIONS.has(action) ? action : 'unknown',
        status: status ? `${status[1]}.${status[2]}.${status[3]}` : undefined,
        diagnosticCode: typedText(b.get('diagnostic-code')),
        remoteMta: typedText(b.get('remote-mta')),
      };
    });
  return {
    reportingMta: typedText(message.get('reporting-mta')),
    originalEnvelopeId: message.get('original-envelope-id'),
    recipients,
  };
}

/**
 * What a recipient block means for the recipient: a failure is a bounce classified like any
 * other (5.7.x and blocklist wording blame the sender; x.2.2 soft; 5.x.x hard; 4.x.x soft);
 * `delayed`, `delivered`, `relayed` and `expanded` are not bounces (undefined).
 */
export function dsnVerdict(recipient: DsnRecipient): BounceVerdict | undefined {
  if (recipient.action !== 'failed') return undefined;
  return classifyBounce({ status: recipient.status, diagnostic: recipient.diagnosticCode });
}

export interface FeedbackReport {
  /** Lowercase: abuse, fraud, virus, other, not-spam, auth-failure, … */
  feedbackType: string;
  userAgent: string | undefined;
  originalRcptTo: string[];
  originalMailFrom: string | undefined;
  arrivalDate: string | undefined;
  reportedDomain: string | undefined;
}

/** Parses the text of a message/feedback-report part (RFC 5965 §3.5). */
export function parseFeedbackReport(raw: string): FeedbackReport | undefined {
  const text = raw.replace(/\r\n?/g, '\n');
  // Original-Rcpt-To may repeat (one per recipient): collect every occurrence.
  const rcpts = [...text.matchAll(/^original-rcpt-to[ \t]*:(.*)$/gim)]
    .map((m) => fieldAddress(m[1]))
    .filter((a): a is string => a !== undefined);
  const fields = parseFieldBlocks(text)[0];
  const feedbackType = fields?.get('feedback-type')?.trim().toLowerCase();
  if (!fields || !feedbackType) return undefined;
  return {
    feedbackType,
    userAgent: fields.get('user-agent'),
    originalRcptTo: rcpts,
    originalMailFrom: fieldAddress(fields.get('original-mail-from')),
    arrivalDate: fields.get('arrival-date') ?? fields.get('received-date'),
    reportedDomain: fields.get('reported-domain'),
  };
}

/** Feedback types that are a complaint about the mail (the rest change nothing). */
export function isComplaint(report: FeedbackReport): boolean {
  return report.feedbackType === 'abuse' || report.feedbackType === 'fraud';
}
