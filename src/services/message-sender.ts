// One message of a window: built from the campaign's snapshot, then sent over one of this
// process's SMTP connections, with its in-flight marker written just before MAIL FROM and the
// server's verdict after (src/queue/in-flight.ts).
import { Gate } from '../lib/gate.js';
import { isConnectionRefusal, PoolSizer } from '../domain/pool-sizing.js';
import type { Logger } from '../lib/logger.js';
import type { CampaignRow } from '../db/repositories/campaigns.repository.js';
import type { Recipient } from '../db/repositories/deliveries.repository.js';
import type { Sender } from '../domain/sender.js';
import type { SendFailure, SendResult } from '../domain/window-outcomes.js';
import { InvalidMessageError, type OutgoingMessage } from '../mail/message.js';
import { RenderTimeout, type Personalizer } from '../mail/render.js';
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
  /** How many of SMTP_POOL_SIZE the relay takes now (fewer after its 421s). */
  private readonly sizer: PoolSizer;

  constructor(
    private readonly messages: CampaignMessageBuilder,
    private readonly limiter: RateLimiter,
    private readonly transport: MailTransport,
    private readonly inFlight: InFlight,
    poolSize: number,
  ) {
    this.sizer = new PoolSizer(Math.max(1, poolSize));
    this.connections = new Gate(this.sizer.size);
  }

  /**
   * Builds the message; a render that ran out of time is tried once more. The render limit is
   * wall-clock time, and under load a garbage collection or a busy core can take an ordinary
   * message past it (a few in a million, measured): a runaway template fails twice.
   */
  private buildRetryingTimeout(
    campaign: CampaignRow,
    personalizer: Personalizer,
    r: Recipient,
    from: Sender,
  ): OutgoingMessage {
    try {
      return this.messages.build(campaign, personalizer, r, from);
    } catch (error) {
      if (!(error instanceof RenderTimeout)) throw error;
      return this.messages.build(campaign, personalizer, r, from);
    }
  }

  /** Connections in use at most now: SMTP_POOL_SIZE, or fewer after the relay's 421s. */
  get poolSize(): number {
    return this.sizer.size;
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
      message = this.buildRetryingTimeout(campaign, personalizer, r, from);
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
        if (this.sizer.accepted(Date.now())) this.connections.resize(this.sizer.size);
        return { ok: true, messageId: message.messageId };
      } finally {
        this.inFlight.ended(campaign.id, r.delivery_id, claim, accepted).catch((error: unknown) => {
          log.warn({ event: 'in_flight_write_failed', err: error }, 'in-flight marker not written');
        });
      }
    } catch (error) {
      // The transport refuses unsafe header data before any SMTP exchange (no reply code).
      const e = error as SendFailure;
      if (isConnectionRefusal(e) && this.sizer.refused(Date.now())) {
        this.connections.resize(this.sizer.size);
        log.warn(
          { event: 'smtp_pool_shrunk', poolSize: this.sizer.size, reason: e.message },
          'the relay refused a connection: fewer SMTP connections for now',
        );
      }
      return {
        ok: false,
        error: error instanceof InvalidMessageError ? { message: e.message, unsendable: true } : e,
      };
    } finally {
      this.connections.leave();
    }
  }
}
