// One message of a window: built from the campaign's snapshot, then sent over one of this
// process's SMTP connections, with its in-flight marker written just before MAIL FROM and the
// server's verdict after (src/queue/in-flight.ts).
import { Gate } from '../lib/gate.js';
import type { Logger } from '../lib/logger.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import type { Recipient } from '../db/repositories/deliveries.repository.js';
import type { Sender } from '../domain/sender.js';
import type { SendFailure, SendResult } from '../domain/window-outcomes.js';
import { InvalidMessageError, type OutgoingMessage } from '../mail/message.js';
import type { Personalizer } from '../mail/render.js';
import type { MailTransport } from '../mail/transport.js';
import type { InFlight } from '../queue/in-flight.js';
import type { RateLimiter } from '../queue/rate-limiter.js';
import type { CampaignMessageBuilder } from './campaign-message.builder.js';

export class MessageSender {
  /**
   * SMTP transactions under way in this process: one per pooled connection. A message waits
   * here, before its in-flight marker, rather than in nodemailer's queue, so that only messages
   * really on a connection can be `unknown` after a crash.
   */
  private readonly connections: Gate;

  constructor(
    private readonly messages: CampaignMessageBuilder,
    private readonly limiter: RateLimiter,
    private readonly transport: MailTransport,
    private readonly inFlight: InFlight,
    poolSize: number,
  ) {
    this.connections = new Gate(Math.max(1, poolSize));
  }

  async send(
    campaign: CampaignRow,
    personalizer: Personalizer,
    from: Sender,
    r: Recipient,
    claim: string,
    log: Logger,
  ): Promise<SendResult> {
    let message: OutgoingMessage;
    try {
      message = this.messages.build(campaign, personalizer, r, from);
    } catch (error) {
      // A template that exceeds its render limits, or data that cannot make a safe header,
      // fails the same way on every attempt: permanent.
      return { ok: false, error: { message: (error as Error).message, unsendable: true } };
    }
    await this.connections.enter();
    try {
      await this.limiter.take();
      // Written before MAIL FROM: from here on, a crash leaves this row `unknown`.
      if (!(await this.inFlight.begin(campaign.id, r.delivery_id, claim))) {
        return { ok: false, error: { message: 'taken back by recovery', revoked: true } };
      }
      let accepted: string | undefined;
      try {
        await this.transport.send(message);
        accepted = message.messageId;
        return { ok: true, messageId: message.messageId };
      } finally {
        this.inFlight.ended(campaign.id, r.delivery_id, claim, accepted).catch((error: unknown) => {
          log.warn({ event: 'in_flight_write_failed', err: error }, 'in-flight marker not written');
        });
      }
    } catch (error) {
      // The transport refuses unsafe header data before any SMTP exchange (no reply code).
      const e = error as SendFailure;
      return {
        ok: false,
        error: error instanceof InvalidMessageError ? { message: e.message, unsendable: true } : e,
      };
    } finally {
      this.connections.leave();
    }
  }
}
