// The built-in receiver for mail sent back to the VERP return path (docs/contract.md §6, §7): an SMTP
// listener on BOUNCE_SMTP_PORT that takes RFC 3464 delivery status notifications and RFC 5965
// (ARF) complaints for `bounce+<signed token>@BOUNCE_DOMAIN` and feeds them to the feedback
// policy with source `dsn`. The signed token names the subscriber and the campaign, so a report
// is only believed about the subscriber it was sent for:
// - RCPT TO: anything but a genuine token at BOUNCE_DOMAIN is refused with 550;
// - a report that names its recipient (Final-Recipient / Original-Recipient, Original-Rcpt-To)
//   must name the token's subscriber, or it is ignored;
// - the report's Message-ID plus the recipient is the event id: a report delivered twice is a
//   replay and changes nothing.
// Mail that is not a report (auto-replies, spam) is accepted and dropped, so that no bounce of a
// bounce is generated. No AUTH, no STARTTLS, 1 MB size limit.
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerSession,
} from 'smtp-server';
import type { Pool } from '../../db/pool.js';
import type { NewEvent } from '../../db/repositories/events.repository.js';
import { dsnVerdict, isComplaint } from '../../domain/dsn.js';
import { verifyLink, type SigningKey } from '../../domain/links.js';
import { bounceReason } from '../../domain/webhook-bounce.js';
import type { Logger } from '../../lib/logger.js';
import { SubscriberFeedbackRepository } from '../../db/repositories/subscriber-feedback.repository.js';
import type { FeedbackService } from '../../services/feedback.service.js';
import { parseInboundReport, type InboundReport } from './report.js';

export const BOUNCE_MAX_BYTES = 1024 * 1024;
const MAX_RECIPIENTS = 10;

export interface BounceReceiverOptions {
  domain: string;
  /** 0 picks a free port (tests); `listening` resolves with the bound one. */
  port: number;
  host?: string | undefined;
  keys: () => readonly SigningKey[];
  pool: Pool;
  feedback: FeedbackService;
  log: Logger;
  maxBytes?: number | undefined;
}

export interface BounceReceiver {
  /** Resolves with the bound port once listening; rejects when the port cannot be bound. */
  listening: Promise<number>;
  close(): Promise<void>;
}

/** Who a return-path address is about, from its verified token. */
export interface BounceTarget {
  subscriberId: number;
  subscriberUuid: string;
  email: string;
  campaignId: number | null;
}

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/** The token of `bounce+<token>@<domain>`, or undefined for any other address. */
export function bounceToken(address: string, domain: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at < 0 || address.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return undefined;
  const local = address.slice(0, at);
  return local.toLowerCase().startsWith('bounce+') ? local.slice('bounce+'.length) : undefined;
}

export async function resolveTarget(
  pool: Pool,
  keys: readonly SigningKey[],
  domain: string,
  address: string,
): Promise<BounceTarget | undefined> {
  const token = bounceToken(address, domain);
  const payload = token === undefined ? undefined : verifyLink(keys, token, 'bounce');
  if (!payload) return undefined;
  const row = await new SubscriberFeedbackRepository(pool).withCampaignByUuids(
    payload.subscriberUuid,
    payload.campaignUuid ?? null,
  );
  if (!row) return undefined;
  return {
    subscriberId: row.id,
    subscriberUuid: payload.subscriberUuid,
    email: row.email.toLowerCase(),
    campaignId: row.campaign_id,
  };
}

/** The event a report makes for one target, or a reason to ignore it. */
export function reportEvent(
  report: InboundReport,
  target: BounceTarget,
): { event: NewEvent } | { ignored: string } {
  const base = {
    source: 'dsn' as const,
    campaignId: target.campaignId,
    subscriberId: target.subscriberId,
    email: target.email,
  };
  // Report ids are the reporter's Message-ID: bounded so a hostile one cannot bloat the index.
  const eventId = `${report.kind}:${report.reportId.slice(0, 300)}:${target.email}`;
  if (report.kind === 'dsn') {
    const named = report.status.recipients.filter(
      (r) => r.finalRecipient !== undefined || r.originalRecipient !== undefined,
    );
    const mine = report.status.recipients.filter(
      (r) =>
        (r.finalRecipient === undefined && r.originalRecipient === undefined) ||
        r.finalRecipient === target.email ||
        r.originalRecipient === target.email,
    );
    if (mine.length === 0) {
      return { ignored: named.length > 0 ? 'recipient mismatch' : 'no recipient block' };
    }
    const failed = mine.find((r) => r.action === 'failed');
    const verdict = failed && dsnVerdict(failed);
    if (!failed || !verdict) return { ignored: `action ${mine[0]!.action}` };
    const text = [failed.status, failed.diagnosticCode].filter(Boolean).join(' ') || 'failed';
    return {
      event: {
        ...base,
        type: 'bounce',
        bounceType: verdict.bounceType,
        providerEventId: eventId,
        reason: bounceReason(verdict, text.slice(0, 900)),
        payload: {
          report: 'delivery-status',
          reportId: report.reportId,
          subject: report.subject,
          reportingMta: report.status.reportingMta,
          ...failed,
          senderBlame: verdict.senderBlame,
        },
      },
    };
  }
  const { feedback } = report;
  if (!isComplaint(feedback)) return { ignored: `feedback type ${feedback.feedbackType}` };
  if (feedback.originalRcptTo.length > 0 && !feedback.originalRcptTo.includes(target.email)) {
    return { ignored: 'recipient mismatch' };
  }
  return {
    event: {
      ...base,
      type: 'complaint',
      providerEventId: eventId,
      reason: `feedback report: ${feedback.feedbackType}`,
      payload: { report: 'feedback-report', reportId: report.reportId, ...feedback },
    },
  };
}

/** What the receiver does with a recipient and a message; the SMTP plumbing is below. */
class ReturnPath {
  constructor(private readonly options: BounceReceiverOptions) {}

  target(address: string): Promise<BounceTarget | undefined> {
    const { pool, keys, domain } = this.options;
    return resolveTarget(pool, keys(), domain, address);
  }

  /** RCPT TO: only genuine return-path tokens, at most MAX_RECIPIENTS of them. */
  async recipientRefusal(address: string, accepted: number): Promise<Error | undefined> {
    if (accepted >= MAX_RECIPIENTS) return smtpError(452, '4.5.3 Too many recipients');
    try {
      if (await this.target(address)) return undefined;
      return smtpError(550, '5.1.1 No such recipient: not a Bulletin return path');
    } catch (error) {
      this.options.log.error(
        { event: 'bounce_rcpt_error', err: error },
        'bounce receiver lookup failed',
      );
      return smtpError(451, '4.3.0 Temporary failure, try again later');
    }
  }

  /** A whole message for these return paths: a report is applied to each, anything else dropped. */
  async receive(raw: Buffer, recipients: readonly string[]): Promise<void> {
    const report = await parseInboundReport(raw);
    if (!report) {
      this.options.log.info(
        { event: 'bounce_not_report' },
        'mail to the return path is not a report',
      );
      return;
    }
    for (const address of recipients) {
      const target = await this.target(address);
      if (target) await this.apply(report, target);
    }
  }

  private async apply(report: InboundReport, target: BounceTarget): Promise<void> {
    const { log, feedback } = this.options;
    const outcome = reportEvent(report, target);
    if ('ignored' in outcome) {
      log.warn(
        { event: 'bounce_report_ignored', kind: report.kind, reason: outcome.ignored },
        'bounce report ignored',
      );
      return;
    }
    const { event } = outcome;
    // As for provider webhooks, a hard bounce also marks the message's ledger row (one
    // implementation: FeedbackService).
    const fresh = await feedback.record(event);
    log.info(
      {
        event: fresh ? 'bounce_report_recorded' : 'bounce_report_replay',
        type: event.type,
        bounceType: event.bounceType ?? null,
        subscriberId: target.subscriberId,
        campaignId: target.campaignId,
      },
      fresh ? 'bounce report recorded' : 'bounce report replayed',
    );
  }
}

/** The message of a DATA stream, or undefined when it went over `maxBytes`. */
function collect(stream: SMTPServerDataStream): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', reject);
    stream.on('end', () => resolve(stream.sizeExceeded ? undefined : Buffer.concat(chunks)));
  });
}

export function startBounceReceiver(options: BounceReceiverOptions): BounceReceiver {
  const { log } = options;
  const maxBytes = options.maxBytes ?? BOUNCE_MAX_BYTES;
  const returnPath = new ReturnPath(options);
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    logger: false,
    size: maxBytes,
    maxClients: 100,
    socketTimeout: 60_000,
    closeTimeout: 5_000,
    banner: 'Bulletin bounce receiver',
    onMailFrom(_address: SMTPServerAddress, _session: SMTPServerSession, callback) {
      callback(); // DSNs come from the null sender; anything may report.
    },
    onRcptTo(address: SMTPServerAddress, session: SMTPServerSession, callback) {
      void returnPath
        .recipientRefusal(address.address, session.envelope.rcptTo.length)
        .then((refusal) => callback(refusal ?? null));
    },
    onData(stream, session, callback) {
      collect(stream)
        .then(async (raw) => {
          if (!raw) return smtpError(552, `5.3.4 Message too big (limit ${maxBytes} bytes)`);
          await returnPath.receive(
            raw,
            session.envelope.rcptTo.map((r) => r.address),
          );
          return undefined;
        })
        .then(
          (refusal) => (refusal ? callback(refusal) : callback(null, 'Report accepted')),
          (error: unknown) => {
            log.error({ event: 'bounce_data_error', err: error }, 'bounce report not processed');
            callback(smtpError(451, '4.3.0 Temporary failure, try again later'));
          },
        );
    },
  });
  server.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'ECONNRESET' || error.code === 'EPIPE') return;
    log.warn({ event: 'bounce_receiver_error', err: error }, 'bounce receiver error');
  });
  return {
    listening: listen(server, options),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}

function listen(server: SMTPServer, options: BounceReceiverOptions): Promise<number> {
  const { log, domain } = options;
  const listening = new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.server.removeListener('error', reject);
      const address = server.server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      log.info({ event: 'bounce_receiver_listening', port, domain }, 'bounce receiver listening');
      resolve(port);
    });
  });
  listening.catch((error: unknown) =>
    log.error({ event: 'bounce_receiver_failed', err: error }, 'bounce receiver could not listen'),
  );
  return listening;
}
