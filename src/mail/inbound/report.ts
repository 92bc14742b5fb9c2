// Finds the machine-readable part of an inbound report with postal-mime and parses it with our
// own field parsers (src/domain/dsn.ts). postal-mime hands `message/delivery-status` and
// `message/feedback-report` parts over as attachments with their content, which is what we
// need; mail that carries neither is not a report (an auto-reply, spam) and gives undefined.
import { createHash } from 'node:crypto';
import PostalMime from 'postal-mime';
import {
  parseDeliveryStatus,
  parseFeedbackReport,
  type DeliveryStatus,
  type FeedbackReport,
} from '../../domain/dsn.js';

export type InboundReport =
  | { kind: 'dsn'; reportId: string; subject: string | undefined; status: DeliveryStatus }
  | { kind: 'arf'; reportId: string; subject: string | undefined; feedback: FeedbackReport };

const DSN_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const ARF_TYPES = new Set(['message/feedback-report']);

function text(content: ArrayBuffer | Uint8Array | string): string {
  return typeof content === 'string' ? content : new TextDecoder('utf-8').decode(content);
}

export async function parseInboundReport(raw: Buffer | string): Promise<InboundReport | undefined> {
  const email = await PostalMime.parse(raw);
  // What names this report: its Message-ID, or (a reporter that sets none) a digest of the
  // report part, so the same report delivered again is recognised either way.
  const id = (part: string) =>
    email.messageId?.trim() || `sha256:${createHash('sha256').update(part).digest('hex')}`;
  const subject = email.subject;
  const dsn = email.attachments.find((a) => DSN_TYPES.has(a.mimeType));
  if (dsn) {
    const body = text(dsn.content);
    return { kind: 'dsn', reportId: id(body), subject, status: parseDeliveryStatus(body) };
  }
  const arf = email.attachments.find((a) => ARF_TYPES.has(a.mimeType));
  if (arf) {
    const body = text(arf.content);
    const feedback = parseFeedbackReport(body);
    if (feedback) return { kind: 'arf', reportId: id(body), subject, feedback };
  }
  return undefined;
}
