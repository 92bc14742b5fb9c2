// Sends one batch of a campaign: the heart of the exactly-once promise (docs/contract.md §5).
//
// A batch job owns a range of ledger ids. It works in small windows: claim a few due, queued
// rows ('queued' → 'sending', with this run's claim `<jobId>#<run>`), re-check that each
// subscriber may still be mailed, send, and write every outcome in one statement. Each SMTP
// transaction begins only after an in-flight marker in Redis says so (src/queue/in-flight.ts),
// at most SMTP_POOL_SIZE at once per process. If the process dies, the next run of the same job
// resolves the dead run's rows from those markers: begun and unanswered → 'unknown' (never
// re-sent by itself), accepted → 'sent', never begun → 'queued' again.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { retryDelayMs } from '../domain/campaign.js';
import { senderOf } from '../domain/sender.js';
import type { PublicLinks } from './public-links.service.js';
import { classifySmtpError } from '../domain/smtp-errors.js';
import type { Pool } from '../db/pool.js';
import { retryOnConnectionLoss } from '../db/retry.js';
import { CampaignsRepository, type CampaignRow } from '../db/repositories/campaigns.repository.js';
import {
  DeliveriesRepository,
  type Outcome,
  type Recipient,
} from '../db/repositories/deliveries.repository.js';
import { Gate } from '../lib/gate.js';
import type { Logger } from '../lib/logger.js';
import type { MessageResult, Metrics } from '../metrics/metrics.js';
import { CampaignMessageBuilder } from './campaign-message.builder.js';
import type { MailTransport } from '../mail/transport.js';
import type { RateLimiter } from '../queue/rate-limiter.js';
import { retryJobId, type DeliveryJob, type Queues } from '../queue/queues.js';
import type { FeedbackService } from './feedback.service.js';
import type { InFlight } from '../queue/in-flight.js';
import { resolveAbandoned } from './abandoned-claims.js';
import { MessageSender, type SendError } from './message-sender.js';

export type BatchOutcome = 'done' | 'not-running' | 'paused-by-errors' | 'stopped';

/** A row written back as 'queued' is a retry scheduled for later, not a final outcome. */
const resultOf = (o: Outcome): MessageResult =>
  o.status === 'queued' || o.status === 'sending' ? 'retried' : o.status;

export class DeliveryService {
  private readonly messages: CampaignMessageBuilder;

  constructor(
    private readonly pool: Pool,
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly transport: MailTransport,
    private readonly limiter: RateLimiter,
    private readonly queues: Queues,
    private readonly feedback: FeedbackService,
    links: PublicLinks,
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly inFlight: InFlight,
  ) {
    this.messages = new CampaignMessageBuilder(config, links);
    this.sender = new MessageSender(
      this.messages,
      limiter,
      transport,
      inFlight,
      config.smtpPoolSize,
    );
  }

  private readonly sender: MessageSender;

  /** How many messages of one job are in flight at once. */
  get windowSize(): number {
    return Math.max(1, this.config.smtpPoolSize);
  }

  /**
   * Windows claimed and in flight in this process, across its WORKER_CONCURRENCY jobs. More
   * than a few per SMTP connection only queue inside nodemailer's pool: they cost memory and
   * CPU, and leave more rows `sending` (hence `unknown` after a crash) for no throughput.
   */
  static readonly WINDOWS_IN_FLIGHT = 4;
  private readonly windows = new Gate(DeliveryService.WINDOWS_IN_FLIGHT);

  async processBatch(
    job: DeliveryJob,
    jobId: string,
    shouldStop: () => boolean = () => false,
    /** The job's child logger (jobId, campaignId); the service's own otherwise. */
    log: Logger = this.log,
  ): Promise<BatchOutcome> {
    const campaigns = new CampaignsRepository(this.pool);
    const ledger = new DeliveriesRepository(this.pool);
    // Every statement of a batch rides out a database restart: outcomes of messages already
    // handed to SMTP wait in memory until PostgreSQL answers again (docs/contract.md §5).
    const db = <T>(fn: () => Promise<T>) =>
      retryOnConnectionLoss(fn, {
        onRetry: (error, attempt) => {
          if (attempt === 1) {
            log.warn(
              { event: 'database_unavailable', campaignId: job.campaignId, err: error },
              'database unreachable: holding the batch until it answers',
            );
          }
        },
      });
    // This run's claim: rows it claims carry it, and its in-flight markers name it.
    const claim = `${jobId}#${randomBytes(4).toString('hex')}`;
    await this.inFlight.startRun(job.campaignId, claim);
    const left = await db(() => ledger.abandonedBy(job.campaignId, jobId, claim));
    if (left.length > 0) {
      const counts = await db(() =>
        resolveAbandoned(this.pool, this.inFlight, job.campaignId, left),
      );
      log.warn(
        {
          event: 'deliveries_unknown',
          campaignId: job.campaignId,
          jobId,
          count: counts.unknown,
          ...counts,
        },
        'an earlier run of this job stopped mid-send: its rows resolved',
      );
      if (counts.unknown > 0) this.metrics.messages.inc({ result: 'unknown' }, counts.unknown);
      if (counts.sent > 0) this.metrics.messages.inc({ result: 'sent' }, counts.sent);
    }
    let campaign = await db(() => campaigns.findById(job.campaignId));
    let checkedAt = Date.now();
    // Outcomes of the last window when they need nothing else done first (no retry to queue,
    // no pause): written by the next claim's statement, saving a round trip per window.
    let pending: Outcome[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const outcomes = pending;
      await db(() => ledger.record(outcomes, claim));
      this.forget(job.campaignId, outcomes, log);
      this.metrics.countMessages(pending.map(resultOf));
      pending = [];
    };
    const finish = async (outcome: BatchOutcome) => {
      await flush();
      this.inFlight.endRun(job.campaignId, claim).catch((error: unknown) => {
        log.warn({ event: 'in_flight_write_failed', err: error }, 'in-flight marker not removed');
      });
      return outcome;
    };
    for (;;) {
      await this.windows.enter();
      let outcome: Awaited<ReturnType<DeliveryService['sendWindow']>> | undefined;
      try {
        // Checked once through the gate, where a job may have waited: pause, cancel and
        // SIGTERM stop new SMTP transactions within about half a second.
        if (Date.now() - checkedAt > 500) {
          campaign = await db(() => campaigns.findById(job.campaignId));
          checkedAt = Date.now();
        }
        if (!campaign || campaign.status !== 'running' || !campaign.snapshot) {
          return await finish('not-running');
        }
        if (shouldStop()) return await finish('stopped');
        const previous = pending;
        const { claimed, recipients } = await db(() =>
          ledger.claimRecipients(
            job.campaignId,
            job.fromId,
            job.toId,
            this.windowSize,
            claim,
            previous,
          ),
        );
        this.forget(job.campaignId, previous, log);
        this.metrics.countMessages(pending.map(resultOf));
        pending = [];
        if (claimed.length > 0) {
          outcome = await this.sendWindow(
            db,
            log,
            claim,
            campaign,
            claimed.map((c) => c.id),
            new Map(claimed.map((c) => [c.id, c.attempts])),
            recipients,
            ledger,
          );
        }
      } finally {
        this.windows.leave();
      }
      if (outcome === undefined) break;
      if (outcome === 'paused-by-errors') return await finish(outcome);
      if (outcome !== 'ok') pending = outcome.deferred;
    }
    await finish('done');
    if (await db(() => campaigns.finishIfDone(job.campaignId))) {
      log.info({ event: 'campaign_finished', campaignId: job.campaignId }, 'campaign finished');
    }
    return 'done';
  }

  /** Markers of rows whose outcome the ledger now holds; a failed delete only leaves garbage. */
  private forget(campaignId: number, outcomes: Outcome[], log: Logger): void {
    if (outcomes.length === 0) return;
    this.inFlight
      .forget(
        campaignId,
        outcomes.map((o) => o.id),
      )
      .catch((error: unknown) => {
        log.warn({ event: 'in_flight_write_failed', err: error }, 'in-flight markers not removed');
      });
  }

  private async sendWindow(
    db: <T>(fn: () => Promise<T>) => Promise<T>,
    log: Logger,
    claim: string,
    campaign: CampaignRow,
    ids: number[],
    attempts: Map<number, number>,
    /** The claimed rows whose subscriber may still be mailed (re-checked at the claim). */
    recipients: Recipient[],
    ledger: DeliveriesRepository,
  ): Promise<'ok' | 'paused-by-errors' | { deferred: Outcome[] }> {
    const eligible = new Set(recipients.map((r) => r.delivery_id));
    const outcomes: Outcome[] = ids
      .filter((id) => !eligible.has(id))
      .map((id) => ({ id, status: 'suppressed', error: 'no longer subscribed or deliverable' }));
    const personalizer = this.messages.personalizer(campaign);
    const from = senderOf(campaign, this.config.mailFrom);
    const results = await Promise.all(
      recipients.map((r) => this.sender.send(campaign, personalizer, from, r, claim, log)),
    );
    let transportErrors = 0;
    let firstTransportError: { error: SendError; reason: string } | undefined;
    let paused = false;
    const retries: { id: number; attempt: number; delay: number }[] = [];
    for (const [i, r] of recipients.entries()) {
      const result = results[i]!;
      const attempt = attempts.get(r.delivery_id) ?? 1;
      if (result.ok) {
        outcomes.push({ id: r.delivery_id, status: 'sent', messageId: result.messageId });
        continue;
      }
      // Recovery took this row back (this run was thought dead): it is another run's now.
      if (result.error.revoked) continue;
      if (result.error.unsendable) {
        outcomes.push({
          id: r.delivery_id,
          status: 'failed',
          error: result.error.message.slice(0, 500),
        });
        continue;
      }
      const verdict = classifySmtpError(result.error);
      switch (verdict.kind) {
        case 'transport': {
          transportErrors++;
          firstTransportError ??= { error: result.error, reason: verdict.reason };
          const delay = Math.min(this.config.retryBaseDelayMs, 5000);
          outcomes.push({
            id: r.delivery_id,
            status: 'queued',
            error: verdict.reason,
            retryAt: new Date(Date.now() + delay),
            refundAttempt: true,
          });
          retries.push({ id: r.delivery_id, attempt, delay });
          break;
        }
        case 'transient': {
          if (attempt >= this.config.maxAttempts) {
            outcomes.push({ id: r.delivery_id, status: 'failed', error: verdict.reason });
          } else {
            const delay = retryDelayMs(this.config.retryBaseDelayMs, attempt);
            outcomes.push({
              id: r.delivery_id,
              status: 'queued',
              error: verdict.reason,
              retryAt: new Date(Date.now() + delay),
            });
            retries.push({ id: r.delivery_id, attempt, delay });
          }
          break;
        }
        case 'bounce':
          outcomes.push({ id: r.delivery_id, status: 'bounced', error: verdict.reason });
          await db(() =>
            this.feedback.record({
              type: 'bounce',
              bounceType: verdict.bounceType,
              source: 'smtp',
              providerEventId: `smtp-${r.delivery_id}-${attempt}`,
              campaignId: campaign.id,
              subscriberId: r.subscriber_id,
              email: r.email,
              reason: verdict.reason,
            }),
          );
          break;
        case 'sender-blame':
          // The receiver objects to us, not to the recipient: never suppress them for it.
          outcomes.push({ id: r.delivery_id, status: 'failed', error: verdict.reason });
          break;
      }
    }
    // A plain window (no retry, no transport error) is written by the next claim; anything
    // else now, before the retry jobs exist that will look for these rows.
    if (retries.length === 0 && transportErrors === 0) {
      if (results.some((x) => x.ok)) await this.resetSendErrors(campaign.id);
      return { deferred: outcomes };
    }
    await db(() => ledger.record(outcomes, claim));
    this.forget(campaign.id, outcomes, log);
    // Counted once the ledger holds them, so each counter tracks the ledger's own count.
    this.metrics.countMessages(outcomes.map(resultOf));
    if (firstTransportError) {
      // No recipient in it: a transport error (auth, connection refused) concerns the server.
      log.warn(
        {
          event: 'smtp_transport_error',
          campaignId: campaign.id,
          count: transportErrors,
          code: firstTransportError.error.code,
          responseCode: firstTransportError.error.responseCode,
          reason: firstTransportError.reason,
        },
        'SMTP transport error: messages re-queued',
      );
    }
    if (retries.length > 0) {
      await this.queues.deliveries.addBulk(
        retries.map((r) => ({
          name: 'retry',
          data: { campaignId: campaign.id, fromId: r.id, toId: r.id },
          opts: { jobId: retryJobId(r.id, r.attempt), delay: r.delay },
        })),
      );
    }
    const errorsKey = `${this.config.queuePrefix}:senderrors:${campaign.id}`;
    if (transportErrors > 0 && transportErrors === recipients.length) {
      const consecutive = await this.redis.incrby(errorsKey, transportErrors);
      this.countedErrors.add(campaign.id);
      if (consecutive >= this.config.maxSendErrors) {
        const firstError = results.flatMap((x) => (x.ok ? [] : [x.error.message]))[0] ?? '';
        const reason =
          `paused after ${consecutive} consecutive transport errors: ${firstError}`.slice(0, 500);
        const campaigns = new CampaignsRepository(this.pool);
        if (await db(() => campaigns.transition(campaign.id, ['running'], 'paused', { reason }))) {
          log.error(
            { event: 'campaign_auto_paused', campaignId: campaign.id, reason },
            'campaign paused itself',
          );
        }
        await this.redis.del(errorsKey);
        paused = true;
      }
    } else if (results.some((x) => x.ok)) {
      await this.resetSendErrors(campaign.id);
    }
    return paused ? 'paused-by-errors' : 'ok';
  }

  /** When this process last reset a campaign's consecutive-error count, by campaign. */
  private readonly errorsResetAt = new Map<number, number>();
  /** Campaigns whose error count this process raised since it last reset it. */
  private readonly countedErrors = new Set<number>();

  /**
   * A success ends a run of consecutive transport errors. Resetting the shared counter costs a
   * Redis round trip, so while all goes well it is done at most once a second per campaign;
   * always at once after this process counted errors itself. (Another process's errors may
   * then outlive one of our successes by up to a second.)
   */
  private async resetSendErrors(campaignId: number): Promise<void> {
    const now = Date.now();
    const counted = this.countedErrors.delete(campaignId);
    if (!counted && now - (this.errorsResetAt.get(campaignId) ?? 0) < 1000) return;
    this.errorsResetAt.set(campaignId, now);
    if (this.errorsResetAt.size > 100) this.errorsResetAt.clear();
    await this.redis.del(`${this.config.queuePrefix}:senderrors:${campaignId}`);
  }
}
